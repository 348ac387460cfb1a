// loadZoneFile: parse, build once, check the tree; errors and warnings as FILE:LINE:COL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Name, RRType } from '../../src/wire/index.js';
import { loadZoneFile } from '../../src/zone/checks-load.js';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}
const fixtures = join(repoRoot(), 'test', 'fixtures', 'zones');

test('loadZoneFile: a good zone is built, with no findings', async () => {
  const r = await loadZoneFile(Name.parse('good.test.'), join(fixtures, 'good.zone'));
  assert.deepEqual([r.errors, r.warnings], [[], []]);
  assert.equal(r.zone?.serial, 7);
  assert.equal(r.zone?.recordCount, 11);
  assert.ok(r.zone?.getNode(Name.parse('www.good.test.'))?.getRRset(RRType.CNAME));
});

test('loadZoneFile: syntax errors and check errors come back with positions, and no zone', async () => {
  const syntax = await loadZoneFile(Name.parse('bad.test.'), join(fixtures, 'bad-syntax.zone'));
  assert.equal(syntax.zone, undefined);
  assert.match(syntax.errors[0]!, /bad-syntax\.zone:5:7: "192\.0\.2\.300" is not an IPv4 address$/);
  const sem = await loadZoneFile(Name.parse('sem.test.'), join(fixtures, 'bad-semantic.zone'));
  assert.equal(sem.zone, undefined);
  assert.ok(sem.errors.some((e) => /bad-semantic\.zone:7:1: CNAME and other data \(A\) at both\.sem\.test\.$/.test(e)), sem.errors.join('\n'));
  const missing = await loadZoneFile(Name.parse('x.test.'), join(fixtures, 'nope.zone'));
  assert.match(missing.errors[0]!, /cannot open zone file: ENOENT/);
});

test('loadZoneFile: out-of-zone data and duplicates are warnings; no SOA is the SOA_MISSING finding', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zone-load-'));
  try {
    const file = join(dir, 'w.zone');
    writeFileSync(file, '$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nns A 192.0.2.1\nother.example. A 192.0.2.2\nns 30 A 192.0.2.3\n');
    const r = await loadZoneFile(Name.parse('w.test.'), file, { yieldEvery: 1 });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.warnings, [
      `${file}:5:1: duplicate A record collapsed`,
      `${file}:6:1: ignoring out-of-zone data other.example. (not below w.test.)`,
      `${file}:7:1: TTL 30 differs from 60 of the A RRset; using 60`,
    ]);
    assert.equal(r.zone?.recordCount, 4);
    writeFileSync(file, '$TTL 60\n@ NS ns\nns A 192.0.2.1\n');
    const none = await loadZoneFile(Name.parse('w.test.'), file);
    assert.equal(none.zone, undefined);
    assert.deepEqual(none.errors, ['w.test./SOA: no SOA record at the zone apex w.test.']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
