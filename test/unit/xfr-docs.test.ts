import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfigText } from '../../src/server/config.js';

/** The repository root: the nearest folder above the compiled test holding docs/xfr.md. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6 && !existsSync(join(dir, 'docs', 'xfr.md')); i++) dir = resolve(dir, '..');
  return dir;
}
const root = repoRoot();

test('docs/xfr.md: every YAML snippet is a valid config', () => {
  const text = readFileSync(join(root, 'docs', 'xfr.md'), 'utf8');
  const snippets = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(snippets.length > 0);
  for (const s of snippets) {
    const c = parseConfigText(s, 'docs/xfr.md');
    // Each snippet shows a secondary or a catalog zone (docs/xfr.md's two kinds of example).
    assert.ok(c.zones.some((z) => z.primaries?.length || z.catalog), 'the snippet shows a secondary or a catalog');
  }
});

test('config: remotes are validated with their location', () => {
  const bad = 'keys:\n  k: { algorithm: hmac-sha256, secret: "c2VjcmV0" }\nzones:\n  - name: a.test\n    primaries: ["ns.example:53", "127.0.0.1 key nokey"]\n';
  assert.throws(() => parseConfigText(bad, 'x.yaml'), (e: Error) => /x\.yaml:5:\d+: .*bad remote "ns\.example:53"/.test(e.message) && /unknown key "nokey"/.test(e.message));
});
