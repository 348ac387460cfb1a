// loadZoneFile streams records into a ZoneBuilder and places findings with a second read of the
// file: its errors, warnings and zone must be exactly those of the array path it replaced
// (every record held with its position, buildZone, checkBuiltZone with the records).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Name, recordToText, type ResourceRecord } from '../../src/wire/index.js';
import { expectedNames, loadZoneFile, ownerLines } from '../../src/zone/checks-load.js';
import { checkBuiltZone, checkZone, findingText } from '../../src/zone/checks.js';
import { readZoneFile, RecordPositions, warningText, type ZoneWarning } from '../../src/zone/parser.js';
import { buildZone, ZoneBuildError, type Zone } from '../../src/zone/zone.js';
import { generateZone } from '../../bench/gen-zone.js';

/** The array path: what loadZoneFile did before it streamed. */
async function arrayLoad(origin: Name, file: string): Promise<{ zone?: Zone; errors: string[]; warnings: string[] }> {
  const parserWarnings: ZoneWarning[] = [];
  const positions = new RecordPositions();
  const records: ResourceRecord[] = [];
  for await (const rr of readZoneFile(file, { origin, warnings: parserWarnings, positions })) records.push(rr);
  const warnings = parserWarnings.map(warningText);
  const errors: string[] = [];
  let zone: Zone | undefined;
  let findings;
  try {
    zone = buildZone(origin, records.filter((rr) => rr.name.isSubdomainOf(origin)));
    findings = checkBuiltZone(zone, records, { position: positions.get });
  } catch (e) {
    if (!(e instanceof ZoneBuildError)) throw e;
    findings = checkZone(origin, records, { position: positions.get });
    if (findings.errors.length === 0) errors.push(e.message);
    zone = undefined;
  }
  errors.push(...findings.errors.map(findingText));
  warnings.push(...findings.warnings.map(findingText));
  return errors.length || !zone ? { errors, warnings } : { zone, errors, warnings };
}

const texts = (z: Zone | undefined): string[] => (z ? [...z.records()].map((rr) => recordToText(rr)) : []);

test('streaming load equals the array path on generated zones with every kind of finding', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tree-load-'));
  try {
    const origin = Name.parse('bench.test.');
    let findings = 0;
    for (const faultEvery of [0, 7, 50]) {
      const file = join(dir, `gen-${faultEvery}.zone`);
      await generateZone(file, 5000, { faultEvery });
      const streamed = await loadZoneFile(origin, file, { yieldEvery: 997 });
      const reference = await arrayLoad(origin, file);
      assert.deepEqual(streamed.errors, reference.errors, `errors, faultEvery ${faultEvery}`);
      assert.deepEqual(streamed.warnings, reference.warnings, `warnings, faultEvery ${faultEvery}`);
      assert.equal(streamed.zone === undefined, reference.zone === undefined);
      assert.deepEqual(texts(streamed.zone), texts(reference.zone));
      // Every finding is placed: FILE:LINE:COL, not the name form.
      for (const line of [...streamed.errors, ...streamed.warnings]) assert.match(line, /^\/.*:\d+:\d+: /, line);
      findings += streamed.errors.length + streamed.warnings.length;
    }
    assert.ok(findings > 100, `only ${findings} findings`);
    t.diagnostic(`3 zones of 5000 records, ${findings} findings compared`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('findings in included files and duplicates point at their own lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tree-load-'));
  try {
    const inc = join(dir, 'inc.zone');
    writeFileSync(inc, 'dup A 192.0.2.9\nboth CNAME www\nboth TXT "x"\n');
    const file = join(dir, 'main.zone');
    writeFileSync(file, `$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\ndup A 192.0.2.9\n$INCLUDE ${inc}\nout.example. A 192.0.2.2\n`);
    const origin = Name.parse('i.test.');
    const streamed = await loadZoneFile(origin, file);
    const reference = await arrayLoad(origin, file);
    assert.deepEqual(streamed, { errors: reference.errors, warnings: reference.warnings });
    assert.ok(streamed.warnings.includes(`${inc}:1:1: duplicate A record collapsed`), streamed.warnings.join('\n'));
    assert.ok(streamed.errors.some((e) => e.startsWith(`${inc}:`)), streamed.errors.join('\n'));
    assert.ok(streamed.warnings.includes(`${file}:7:1: ignoring out-of-zone data out.example. (not below i.test.)`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('zones the builder refuses (two SOAs, no SOA) are explained as before, with positions', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tree-load-'));
  try {
    const origin = Name.parse('r.test.');
    const bodies = [
      '$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ SOA ns h 2 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n',
      '$TTL 60\n@ NS ns\nns A 192.0.2.1\n',
    ];
    for (const [i, body] of bodies.entries()) {
      const file = join(dir, `r${i}.zone`);
      writeFileSync(file, body);
      const streamed = await loadZoneFile(origin, file);
      const reference = await arrayLoad(origin, file);
      assert.equal(streamed.zone, undefined, body);
      assert.ok(streamed.errors.length > 0, body);
      assert.deepEqual(streamed, { errors: reference.errors, warnings: reference.warnings }, body);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the node table is sized from the owner lines of the file, not from its bytes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'expected-names-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Lines that start with an owner; not comments, directives, blank owners or continuations.
  assert.equal(ownerLines(Buffer.from('$TTL 1\n@ SOA ns h (\n 1 2 3 4 5 )\n  NS ns\n; note\n\nns A 192.0.2.1\r\n\tA 192.0.2.2\nlast A 192.0.2.3')), 3);
  // A generated hosting zone (one owner per record, some empty non-terminals): near its names.
  const hosts = join(dir, 'hosts.zone');
  await generateZone(hosts, 50_000);
  const origin = Name.parse('bench.test.');
  const loaded = await loadZoneFile(origin, hosts);
  const guess = await expectedNames(hosts);
  assert.ok(guess > loaded.zone!.nodeCount * 0.75 && guess < loaded.zone!.nodeCount * 1.25, `${guess} for ${loaded.zone!.nodeCount} names`);
  // A signed zone as dnssec-signzone prints it: many lines per owner, one owner line each.
  const signed = join(dir, 'signed.zone');
  const lines = ['$TTL 300', 'example.test. SOA ns h 1 2 3 4 5', '  RRSIG SOA 8 2 300 (', '    20300101000000 20200101000000 1 example.test.', '    AAAA== )'];
  for (let i = 0; i < 2000; i++) lines.push(`h${i}.example.test. A 192.0.2.1`, '  RRSIG A 8 3 300 (', '    20300101000000 20200101000000 1 example.test.', '    AAAA== )', `  NSEC h${i + 1}.example.test. A RRSIG NSEC`);
  writeFileSync(signed, lines.join('\n') + '\n');
  assert.equal(await expectedNames(signed), 2001);
  writeFileSync(join(dir, 'empty.zone'), '');
  assert.equal(await expectedNames(join(dir, 'empty.zone')), 0);
  assert.equal(await expectedNames(join(dir, 'missing.zone')), 0);
});
