// checkBuiltZone (checks on the built tree, as the server loads) against checkZone (checks on
// the record list, as check-zone runs): the same findings on a generated 100k-record zone with
// problems of every kind sprinkled in, and on the small cases of zone-checks.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Name, type ResourceRecord } from '../../src/wire/index.js';
import { checkBuiltZone, checkZone, findingText, type ZoneFinding } from '../../src/zone/checks.js';
import { parseZoneText, readZoneFile } from '../../src/zone/parser.js';
import { buildZone } from '../../src/zone/zone.js';
import { generateZone, GEN_ORIGIN } from '../../bench/gen-zone.js';

/** Findings as comparable lines; names compared without case (the tree keeps one spelling per name). */
function lines(list: readonly ZoneFinding[]): string[] {
  return list.map((f) => `${f.code} ${findingText(f).toLowerCase()}`).sort();
}

function both(origin: Name, records: ResourceRecord[]) {
  const table = checkZone(origin, records);
  const zone = buildZone(origin, records.filter((rr) => rr.name.isSubdomainOf(origin)));
  const tree = checkBuiltZone(zone, records);
  return { table, tree, zone };
}

test('checkBuiltZone finds what checkZone finds on a 100k-record zone with problems', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zone-checks-built-'));
  try {
    const file = join(dir, 'gen.zone');
    const written = await generateZone(file, 100_000, { faultEvery: 97 });
    const origin = Name.parse(GEN_ORIGIN);
    const records: ResourceRecord[] = [];
    for await (const rr of readZoneFile(file, { origin, positions: true })) records.push(rr);
    assert.equal(records.length, written);
    const { table, tree, zone } = both(origin, records);
    assert.equal(zone.recordCount, table.records.length, 'the tree loads what checkZone says to load');
    assert.deepEqual(lines(tree.errors), lines(table.errors));
    assert.deepEqual(lines(tree.warnings), lines(table.warnings));
    const codes = new Map<string, number>();
    for (const f of [...table.errors, ...table.warnings]) codes.set(f.code, (codes.get(f.code) ?? 0) + 1);
    for (const code of ['DUPLICATE', 'TTL_MISMATCH', 'CNAME_EXTRA_RECORDS', 'CNAME_MULTIPLE', 'OCCLUDED', 'DNAME_CHILDREN',
      'NS_GLUE', 'OUT_OF_ZONE', 'DNAME_EXTRA_NS', 'SOA_NOT_APEX']) {
      assert.ok((codes.get(code) ?? 0) > 0, `the generated zone has ${code} findings`);
    }
    assert.ok(table.errors.some((f) => f.code === 'NS_GLUE') && table.warnings.some((f) => f.code === 'NS_GLUE'));
    // Every finding points at its line, also those about records the tree holds as copies.
    assert.ok([...tree.errors, ...tree.warnings].every((f) => f.position && f.position.line > 0));
    t.diagnostic(`${records.length} records, ${zone.nodeCount} names: ${table.errors.length} errors and ${table.warnings.length} warnings agree (${[...codes].map(([c, n]) => `${c} ${n}`).join(', ')})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const origin = Name.parse('z.test.');
const head = '$TTL 60\n@ SOA ns hostmaster 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n';
const cases = [
  'www CNAME ns\nchild NS ns.child\nns.child A 192.0.2.2\n',
  'sub SOA ns h 1 2 3 4 5\n',
  '@ DS 44030 8 2 D4C3D5552B8679FAEEBC317E5F048B614B2E5F607DC57F1553182D49AB2179F7\n',
  'a CNAME x.example.\na TXT "t"\nb CNAME x.example.\nb CNAME y.example.\nc CNAME x.example.\nc NSEC b A\n',
  'd DNAME x.example.\nd DNAME y.example.\ne DNAME x.example.\ne NS ns.example.\nw.e A 192.0.2.9\nv.w.e TXT x\n',
  'c NS ns.c\nns.c A 192.0.2.2\nx.c TXT "hidden"\nc MX 1 mx.example.\ny.x.c NS ns.y.x.c\n',
  '@ NS ns2\nc NS ns.c\nd NS a.ns.d\n*.ns.d AAAA ::1\n@ NS ns.other.example.\ne NS ns.c\nf NS x.ent.z.test.\ny.x.ent A 192.0.2.3\n',
  'elsewhere.example. A 192.0.2.1\n',
  'a A 192.0.2.5\na A 192.0.2.5\nA.z.test. A 192.0.2.5\na 30 A 192.0.2.6\nb 30 RRSIG A 8 3 60 20300101000000 20200101000000 1 z.test. AAAA\nb RRSIG A 8 3 60 20300101000000 20200101000000 2 z.test. AAAA\n',
  '@ DNAME other.example.\nbelow A 192.0.2.1\n',
];

test('checkBuiltZone agrees with checkZone on small cases of every kind', () => {
  let findings = 0;
  for (const body of cases) {
    const records = parseZoneText(head + body, { origin, file: 'z', positions: true });
    const { table, tree } = both(origin, records);
    assert.deepEqual(lines(tree.errors), lines(table.errors), body);
    assert.deepEqual(lines(tree.warnings), lines(table.warnings), body);
    findings += table.errors.length + table.warnings.length;
  }
  assert.ok(findings >= 20, `${findings} findings compared`);
});

test('checkBuiltZone without the records checks the tree only; a zone built from other records falls back to checkZone', () => {
  const records = parseZoneText(head + 'a A 192.0.2.5\na A 192.0.2.5\nc CNAME x.example.\nc TXT t\n', { origin, file: 'z', positions: true });
  const zone = buildZone(origin, records);
  assert.deepEqual(checkBuiltZone(zone).warnings.map((f) => f.code), []);
  assert.deepEqual(checkBuiltZone(zone).errors.map((f) => f.code), ['CNAME_EXTRA_RECORDS']);
  // The same records parsed again are other objects: the tree cannot vouch for them.
  const again = parseZoneText(head + 'a A 192.0.2.5\na A 192.0.2.5\nc CNAME x.example.\nc TXT t\n', { origin, file: 'z', positions: true });
  assert.deepEqual(checkBuiltZone(zone, again).warnings.map((f) => f.code), ['DUPLICATE']);
  // Two records sharing one data object: the second is still a duplicate.
  const shared = [...records.slice(0, 3), records[4]!, { ...records[4]! }];
  assert.deepEqual(checkBuiltZone(buildZone(origin, shared), shared).warnings.map((f) => f.code), ['DUPLICATE']);
});
