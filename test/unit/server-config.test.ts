// The config schema: the example parses; every error is FILE:LINE:COL at the offending key or
// value; docs/config.md is what the schema generates; README snippets parse; check-config exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfigText, DEFAULT_CONFIG_TEXT, nsidBytes } from '../../src/server/config.js';
import { renderConfigDoc } from '../../src/server/config-doc.js';
import { repoRoot, runCli } from './server-harness.js';

function errorsOf(text: string): string[] {
  try {
    parseConfigText(text, 'f.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message.split('\n');
  }
  assert.fail('expected errors');
}

test('the example config parses; relative zone paths resolve against its folder', async () => {
  const c = await loadConfig(join(repoRoot, 'examples/portcullis.yaml'));
  assert.deepEqual(c.listen, ['127.0.0.1:5353']);
  assert.equal(c.zones[0]!.file, join(repoRoot, 'examples/zones/example.test.zone'));
  assert.equal(c.edns['udp-size'], 1232);
  assert.equal(c.control?.listen, '127.0.0.1:8053');
  const d = parseConfigText(DEFAULT_CONFIG_TEXT, 'default');
  assert.deepEqual(d.listen, ['127.0.0.1:5353']);
  assert.equal(d.tcp['idle-timeout'], 10, 'defaults filled in');
  assert.deepEqual(d.identity, {}, 'identity hidden by default');
});

test('CONTRACT.md config sketch (every section) is accepted', () => {
  const text = `
listen:
  - 127.0.0.1:5353
  - "[::1]:5353"
user: portcullis
acl:
  internal: [127.0.0.0/8, "::1", 10.0.0.0/8]
keys:
  xfr-key: { algorithm: hmac-sha256, secret: "c2VjcmV0" }
zones:
  - name: example.test
    file: zones/example.test.zone
    allow-transfer: [xfr-key]
    notify: ["127.0.0.2:53"]
    allow-update: []
    dnssec: { sign: true }
  - name: example.net
    primaries: ["127.0.0.1:5300 key xfr-key"]
    file: data/example.net.zone
resolver:
  allow: [internal]
  root-hints: hints.txt
  query-port: 53
  forward: [{ zone: corp.example, to: ["10.0.0.53"] }]
  dnssec: validate
  trust-anchors: ta.txt
views:
  - { name: inside, clients: [internal], zones: [corp.example] }
rate-limit: { responses-per-second: 20, slip: 2, window: 15 }
control: { listen: 127.0.0.1:8053 }
`;
  const c = parseConfigText(text, '/etc/portcullis/p.yaml');
  assert.equal(c.zones[1]!.file, '/etc/portcullis/data/example.net.zone');
  assert.equal(c.resolver?.['root-hints'], '/etc/portcullis/hints.txt');
});

test('errors point at the offending key or value: FILE:LINE:COL', () => {
  const cases: Array<[string, RegExp]> = [
    ['listen: [127.0.0.1:5353]\nbogus: 1\n', /^f\.yaml:2:1: unknown key "bogus"/],
    ['tcp:\n  idleTimeout: 5\n', /^f\.yaml:2:3: unknown key "idleTimeout" \(keys are kebab-case: "idle-timeout"\?\)/],
    ['workers: two\n', /^f\.yaml:1:10: workers: expected number, got "two"/],
    ['listen:\n  - 127.0.0.1:5353\n  - "[::1]:99999"\n', /^f\.yaml:3:5: listen\.1: bad listen address "\[::1\]:99999": bad port/],
    ['listen:\n  - localhost:53\n', /^f\.yaml:2:5: .*not an IP address/],
    ['zones:\n  - name: example.test\n    fiel: x.zone\n', /^f\.yaml:2:5: zones\.0: a primary zone needs "file"/],
    ['zones:\n  - name: a..b\n    file: x\n', /^f\.yaml:2:11: zones\.0\.name: bad domain name/],
    ['edns: { udp-size: 100 }\n', /^f\.yaml:1:19: edns\.udp-size: .*512/],
    ['keys:\n  k: { algorithm: md4, secret: "abc=" }\n', /^f\.yaml:2:19: keys\.k\.algorithm/],
    ['zones:\n  - { name: a.test, file: a }\n  - { name: A.test., file: b }\n', /^f\.yaml:3:13: zones\.1\.name: zone "A\.test\." is already defined/],
    ['resolver: { allow: [nosuchlist] }\n', /^f\.yaml:1:21: resolver\.allow\.0: unknown ACL or key "nosuchlist"/],
    ['listen: [\n', /^f\.yaml:\d+:\d+: /],
    ['a: 1\na: 2\n', /^f\.yaml:2:1: .*[Uu]nique/],
  ];
  for (const [text, want] of cases) {
    const errs = errorsOf(text);
    assert.match(errs[0]!, want, `for ${JSON.stringify(text)} got ${errs.join(' | ')}`);
  }
  // Several problems: all reported, in file order.
  const many = errorsOf('bogus: 1\nworkers: 0\ntcp: { max-pipelined: -1 }\n');
  assert.equal(many.length, 3);
  assert.deepEqual(many.map((l) => Number(l.split(':')[1])), [1, 2, 3]);
});

test('nsid: text or hex', () => {
  assert.deepEqual([...nsidBytes('hex:01ff')!], [1, 255]);
  assert.equal(Buffer.from(nsidBytes('ns1')!).toString(), 'ns1');
  assert.equal(nsidBytes(undefined), undefined);
});

test('docs/config.md is generated from the schema (run scripts/gen-config-doc.mjs after changing it)', () => {
  const committed = readFileSync(join(repoRoot, 'docs/config.md'), 'utf8');
  assert.equal(committed, renderConfigDoc());
  // Every top-level key of the schema is documented.
  for (const key of ['listen', 'user', 'workers', 'zones', 'identity', 'nsid', 'edns', 'tcp', 'control', 'acl', 'keys', 'resolver', 'views', 'rate-limit'])
    assert.ok(committed.includes(`## \`${key}\``), key);
});

test('every yaml snippet in the server and cli READMEs parses', () => {
  let n = 0;
  for (const f of ['src/server/README.md', 'src/cli/README.md']) {
    const text = readFileSync(join(repoRoot, f), 'utf8');
    for (const m of text.matchAll(/```yaml\n([\s\S]*?)```/g)) {
      parseConfigText(m[1]!, `${f} snippet`);
      n++;
    }
  }
  assert.ok(n >= 2, `found ${n} snippets`);
});

test('check-config: exit 0 on the example, 1 with FILE:LINE:COL errors, 1 for a missing file', async () => {
  const ok = await runCli(['check-config', 'examples/portcullis.yaml', '--explain']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /OK/);
  assert.match(ok.stdout, /accept\s+detection → rate-limit → cookies/);
  assert.match(ok.stdout, /route\s+view/);
  assert.match(ok.stdout, /answer\s+authoritative → resolver → refuse/);
  assert.match(ok.stdout, /finalize\s+front → monitor/);
  const dir = mkdtempSync(join(tmpdir(), 'pc-cfg-'));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'listen: [127.0.0.1:5353]\nzones:\n  - name: x.test\n    file: x.zone\n    flie: y\n');
  const r = await runCli(['check-config', bad]);
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(`${bad}:5:5: unknown key "flie"`), r.stderr);
  const missing = await runCli(['check-config', join(dir, 'nope.yaml')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read: ENOENT/);
  const usage = await runCli(['check-config']);
  assert.equal(usage.code, 1, 'missing argument is invalid input');
  const version = await runCli(['--version']);
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
});
