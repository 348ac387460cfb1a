import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { Name, recordToText, type ResourceRecord } from '../../src/wire/index.js';
import { checkZone, findingText } from '../../src/zone/checks.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { printZone, sortCanonical } from '../../src/zone/printer.js';
import { checkZoneCommand } from '../../src/cli/check-zone.js';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}
const fixtures = join(repoRoot(), 'test', 'fixtures', 'zones');
const origin = Name.parse('z.test.');
const head = '$TTL 60\n@ SOA ns hostmaster 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n';

function check(body: string, withHead = true) {
  const rrs = parseZoneText((withHead ? head : '$TTL 60\n') + body, { origin, file: 'z', positions: true });
  const r = checkZone(origin, rrs);
  return { ...r, codes: r.errors.map((f) => f.code), warns: r.warnings.map((f) => f.code) };
}

test('a clean zone has no findings and reports its serial', () => {
  const r = check('www CNAME ns\nchild NS ns.child\nns.child A 192.0.2.2\n');
  assert.deepEqual([r.codes, r.warns, r.serial, r.records.length], [[], [], 1, 6]);
});

test('SOA: missing, several, not at the apex', () => {
  assert.deepEqual(check('@ NS ns\nns A 192.0.2.1\n', false).codes, ['SOA_MISSING']);
  assert.deepEqual(check('@ SOA ns2 h 2 2 3 4 5\n').codes, ['SOA_MULTIPLE']);
  assert.deepEqual(check('sub SOA ns h 1 2 3 4 5\n').codes, ['SOA_NOT_APEX']);
});

test('NS at the apex is required', () => {
  assert.deepEqual(check('@ SOA ns h 1 2 3 4 5\nns A 192.0.2.1\n', false).codes, ['NS_APEX']);
});

test('DS at the apex is an error (it belongs to the parent)', () => {
  assert.deepEqual(check('@ DS 44030 8 2 D4C3D5552B8679FAEEBC317E5F048B614B2E5F607DC57F1553182D49AB2179F7\n').codes, ['DS_APEX']);
  assert.deepEqual(check('c NS ns.example.\nc DS 44030 8 2 D4C3D5552B8679FAEEBC317E5F048B614B2E5F607DC57F1553182D49AB2179F7\n').codes, []);
});

test('CNAME beside other data is an error, except RRSIG/NSEC; several CNAMEs too', () => {
  const r = check('a CNAME x.example.\na TXT "t"\n');
  assert.deepEqual(r.codes, ['CNAME_EXTRA_RECORDS']);
  assert.equal(findingText(r.errors[0]!), 'z:6:1: CNAME and other data (TXT) at a.z.test.');
  assert.deepEqual(check('a CNAME x.example.\na CNAME y.example.\n').codes, ['CNAME_MULTIPLE']);
  assert.deepEqual(check('a CNAME x.example.\na NSEC b A\n').codes, []);
});

test('DNAME: several, NS beside it, occluded children (warning)', () => {
  assert.deepEqual(check('d DNAME x.example.\nd DNAME y.example.\n').codes, ['DNAME_MULTIPLE']);
  assert.deepEqual(check('d DNAME x.example.\nd NS ns.example.\n').codes, ['DNAME_EXTRA_NS']);
  const r = check('d DNAME x.example.\nw.d A 192.0.2.9\n');
  assert.deepEqual([r.codes, r.warns], [[], ['DNAME_CHILDREN']]);
  assert.equal(findingText(r.warnings[0]!), 'z:6:1: w.d.z.test. is occluded by the DNAME at d.z.test.');
});

test('data below a delegation is occluded (warning); glue is not', () => {
  const r = check('c NS ns.c\nns.c A 192.0.2.2\nx.c TXT "hidden"\nc MX 1 mx.example.\n');
  assert.deepEqual([r.codes, r.warns.sort()], [[], ['OCCLUDED', 'OCCLUDED']]);
});

test('glue: missing for apex NS is an error, for a delegation a warning; wildcard glue counts', () => {
  const apex = check('@ NS ns2\n');
  assert.deepEqual(apex.codes, ['NS_GLUE']);
  assert.match(findingText(apex.errors[0]!), /^z:5:1: missing glue record: NS target ns2\.z\.test\. has no address records/);
  const deleg = check('c NS ns.c\n');
  assert.deepEqual([deleg.codes, deleg.warns], [[], ['NS_GLUE']]);
  assert.match(deleg.warnings[0]!.message, /required glue/);
  assert.deepEqual(check('c NS a.ns.c\n*.ns.c AAAA ::1\n').warns.filter((c) => c === 'NS_GLUE'), []);
  assert.deepEqual(check('@ NS ns.other.example.\n').codes, []);
});

test('out-of-zone data is dropped with a warning', () => {
  const r = check('elsewhere.example. A 192.0.2.1\n');
  assert.deepEqual([r.codes, r.warns, r.records.length], [[], ['OUT_OF_ZONE'], 3]);
});

test('duplicates are collapsed; TTL mismatch in an RRset is unified to the first TTL', () => {
  const r = check('a A 192.0.2.5\na A 192.0.2.5\nA.z.test. A 192.0.2.5\na 30 A 192.0.2.6\n');
  assert.deepEqual(r.warns, ['DUPLICATE', 'DUPLICATE', 'TTL_MISMATCH']);
  const a = r.records.filter((x) => x.name.key === 'a.z.test.');
  assert.deepEqual(a.map((x) => `${x.ttl} ${x.data.address}`), ['60 192.0.2.5', '60 192.0.2.6']);
});

test('printer: canonical order, SOA first, $ORIGIN, relative owners', () => {
  const rrs = parseZoneText('$TTL 1\nb A 192.0.2.2\nZ.a A 192.0.2.1\n@ NS ns\n@ SOA ns h 1 2 3 4 5\nb A 192.0.2.1\na TXT x\n', { origin });
  assert.equal(printZone(rrs, { origin, relative: true }), [
    '$ORIGIN z.test.',
    '@\t1\tIN\tSOA\tns.z.test. h.z.test. 1 2 3 4 5',
    '@\t1\tIN\tNS\tns.z.test.',
    'a\t1\tIN\tTXT\t"x"',
    'Z.a\t1\tIN\tA\t192.0.2.1',
    'b\t1\tIN\tA\t192.0.2.1',
    'b\t1\tIN\tA\t192.0.2.2',
    '',
  ].join('\n'));
});

test('printer: parse -> print -> parse is the identity (fixtures, absolute and relative)', () => {
  for (const relative of [false, true]) {
    const rrs = parseZoneText(head + 'txt TXT "a;b" "q\\"q" x\\032y\nw\\.x A 192.0.2.7\n@ MX 10 mail\n', { origin });
    const again = parseZoneText(printZone(rrs, { origin, relative }), { origin: Name.root });
    assert.deepEqual(sortCanonical(again).map((r) => recordToText(r)), sortCanonical(rrs).map((r) => recordToText(r)));
  }
});

test('printer round trip holds for random owners, TTLs and TXT data', (t) => {
  const label = fc.uint8Array({ minLength: 1, maxLength: 12 }).map((b) => String.fromCharCode(...b));
  const rec = fc.record({
    labels: fc.array(label, { minLength: 0, maxLength: 3 }),
    ttl: fc.integer({ min: 0, max: 0x7fffffff }),
    strings: fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 3 }),
  });
  let runs = 0;
  fc.assert(fc.property(fc.array(rec, { minLength: 1, maxLength: 8 }), fc.boolean(), (list, relative) => {
    runs++;
    const rrs: ResourceRecord[] = list.map((r) => ({
      name: Name.fromLabels([...r.labels, ...origin.labels]), type: 16, class: 1, ttl: r.ttl, data: { strings: r.strings },
    }));
    const text = printZone(rrs, { origin, relative });
    const back = parseZoneText(text, { origin: Name.root });
    assert.deepEqual(back.map((r) => recordToText(r)), sortCanonical(rrs).map((r) => recordToText(r)));
  }), { numRuns: 200 });
  t.diagnostic(`${runs} random zones printed and parsed back`);
  assert.equal(runs, 200);
});

function capture() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: { stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) } },
  };
}

test('check-zone: success prints serial and count; errors are FILE:LINE:COL', async () => {
  const ok = capture();
  assert.equal(await checkZoneCommand('good.test', join(fixtures, 'good.zone'), ok.io), 0);
  assert.equal(ok.out.stdout, 'zone good.test/IN: loaded serial 7\n11 records\nOK\n');
  assert.equal(ok.out.stderr, '');

  const syntax = capture();
  assert.equal(await checkZoneCommand('bad.test', join(fixtures, 'bad-syntax.zone'), syntax.io), 1);
  const path = join(fixtures, 'bad-syntax.zone');
  assert.equal(syntax.out.stderr.split('\n').slice(0, 2).join('\n'),
    `${path}:5:7: "192.0.2.300" is not an IPv4 address\n${path}:6:3: unknown record type "FOO": expected a TTL, class or record type`);
  assert.match(syntax.out.stderr, /not loaded due to errors/);
  assert.equal(syntax.out.stdout, '');

  const sem = capture();
  assert.equal(await checkZoneCommand('sem.test.', join(fixtures, 'bad-semantic.zone'), sem.io), 1);
  assert.match(sem.out.stderr, new RegExp(`^${join(fixtures, 'bad-semantic.zone').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:7:1: CNAME and other data \\(A\\) at both\\.sem\\.test\\.`));

  const missing = capture();
  assert.equal(await checkZoneCommand('x', join(fixtures, 'nope.zone'), missing.io), 1);
  assert.match(missing.out.stderr, /cannot open zone file: ENOENT/);
});

test('ZONEMD: SHA-384 and SHA-512 digests must have their size; other hash algorithms any', () => {
  const hex = (n: number) => 'ab'.repeat(n);
  assert.deepEqual(check(`@ ZONEMD 1 1 1 ${hex(48)}\n@ ZONEMD 1 1 2 ${hex(64)}\n@ ZONEMD 1 1 240 ${hex(16)}\n`).codes, []);
  const bad = check(`@ ZONEMD 1 1 1 ${hex(20)}\n@ ZONEMD 1 241 2 ${hex(48)}\n`);
  assert.deepEqual(bad.codes, ['ZONEMD_DIGEST', 'ZONEMD_DIGEST']);
  assert.equal(findingText(bad.errors[0]!), 'z:5:1: ZONEMD digest of 20 octets for hash algorithm 1: expected 48 (RFC 8976)');
});
