// Catalog zones (RFC 9432): our producer generates the catalog from config, our consumer adds
// and removes member zones as the catalog changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Name, RRClass, RRType, recordToText } from '../../src/wire/index.js';
import { buildZone } from '../../src/zone/zone.js';
import { catalogRecords, memberId, readCatalog } from '../../src/xfr/catalog.js';
import { transferIn } from '../../src/xfr/client.js';
import { makeTsigKey } from '../../src/xfr/tsig.js';
import { eventually, KEYS, loadZoneFile, SECRET, startNode, tempDir, zoneText } from './xfr-harness.js';

const CAT = Name.parse('catalog.test.');
const key = makeTsigKey('xfr-key', 'hmac-sha256', SECRET);

test('RFC 9432 §4: catalog records and reading them back', () => {
  const members = [Name.parse('a.example.'), Name.parse('B.example.'), Name.parse('a.example.')];
  const recs = catalogRecords(CAT, members, 7);
  const texts = recs.map((r) => recordToText(r));
  assert.ok(texts.includes('version.catalog.test.\t0\tIN\tTXT\t"2"') || texts.some((t) => /^version\.catalog\.test\.\s+0\s+IN\s+TXT\s+"2"$/.test(t)), texts.join('\n'));
  assert.equal(recs.filter((r) => r.type === RRType.PTR).length, 2, 'a member listed twice appears once');
  assert.equal(memberId(Name.parse('b.example.')), memberId(Name.parse('B.EXAMPLE.')), 'the member label ignores case');
  const back = readCatalog(buildZone(CAT, recs));
  assert.equal(back.version, '2');
  assert.deepEqual([...back.members.keys()].sort(), [Name.parse('a.example.').key, Name.parse('b.example.').key]);
  assert.deepEqual(back.problems, []);
  // A member label with two PTRs is broken (§4.1): ignored, reported.
  const broken = [...recs, { name: Name.parse(`${memberId(members[0]!)}.zones.catalog.test.`), type: RRType.PTR, class: RRClass.IN, ttl: 0, data: { target: Name.parse('c.example.') } }];
  const r2 = readCatalog(buildZone(CAT, broken));
  assert.equal(r2.members.has(Name.parse('a.example.').key), false);
  assert.equal(r2.problems.length, 2);
});

test('RFC 9432 §5: producer to consumer; members added and removed without config changes', async (t) => {
  const dir = tempDir('catalog');
  const mk = (n: string, serial: number) => loadZoneFile(n, join(dir, `${n}.zone`), zoneText(n, serial));
  const za = mk('a.example', 3);
  const zb = mk('b.example', 4);
  // The producer listens on 127.0.0.1: NOTIFY leaves from an unbound socket (source 127.0.0.1),
  // and the consumer accepts NOTIFY only from its primaries' addresses.
  const pzones = (withB: boolean) => [
    { name: 'catalog.test', catalog: 'produce' as const, 'allow-transfer': ['xfr-key'], notify: ['127.0.0.84:16321 key xfr-key'] },
    { name: 'a.example', file: join(dir, 'a.example.zone'), 'allow-transfer': ['xfr-key'], 'catalog-zone': 'catalog.test' },
    { name: 'b.example', file: join(dir, 'b.example.zone'), 'allow-transfer': ['xfr-key'], ...(withB ? { 'catalog-zone': 'catalog.test' } : {}) },
  ];
  const primary = await startNode('127.0.0.1', 16320, { keys: KEYS, zones: pzones(true) }, [za, zb]);
  const sdir = join(dir, 'secondary');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(sdir);
  const sconf = { keys: KEYS, zones: [{ name: 'catalog.test', catalog: 'consume' as const, primaries: ['127.0.0.1:16320 key xfr-key'], file: join(sdir, 'catalog.zone') }] };
  const secondary = await startNode('127.0.0.84', 16321, sconf, []);
  const served = (n: string) => secondary.zones().get(Name.parse(n + '.'), RRClass.IN)?.serial;
  try {
    const cat = await transferIn({ address: '127.0.0.1', port: 16320, key, text: 'p' }, CAT, RRType.AXFR);
    assert.equal(cat.kind, 'axfr');
    if (cat.kind === 'axfr') assert.equal(cat.records.filter((r) => r.type === RRType.PTR).length, 2);
    assert.ok(await eventually(() => served('a.example') === 3 && served('b.example') === 4), `members transferred:\n${secondary.log.lines.slice(-10).join('\n')}`);
    assert.ok(existsSync(join(sdir, 'b.example.zone')), 'member copies kept in the catalog folder');
    assert.deepEqual(secondary.xfr.catalogMembers(CAT).length, 2);
    // Reload the producer with b.example no longer in the catalog: serial up, NOTIFY, b removed.
    const before = primary.zones().get(CAT, RRClass.IN)!.serial;
    await primary.xfr.configure({ keys: KEYS, zones: pzones(false) }, [za, zb]);
    assert.equal(primary.xfr.get(CAT)!.zone!.serial, before + 1);
    assert.ok(await eventually(() => served('b.example') === undefined), `b.example no longer served:\n${secondary.log.lines.slice(-12).join('\n')}\n${primary.log.lines.slice(-5).join('\n')}`);
    assert.equal(served('a.example'), 3, 'a.example stays');
    assert.equal(existsSync(join(sdir, 'b.example.zone')), false, 'a removed member\'s copy is deleted');
    assert.ok(secondary.log.lines.some((l) => l.includes('catalog member removed')));
    // And back in: added again.
    await primary.xfr.configure({ keys: KEYS, zones: pzones(true) }, [za, zb]);
    assert.ok(await eventually(() => served('b.example') === 4), 'b.example added again');
    // The consumer restarts: members come back from the copies on disk.
    await secondary.stop();
    await primary.stop();
    const again = await startNode('127.0.0.84', 16321, sconf, []);
    try {
      assert.ok(await eventually(() => again.zones().get(Name.parse('a.example.'), RRClass.IN)?.serial === 3), 'members served from disk after a restart');
    } finally {
      await again.stop();
    }
    t.diagnostic(secondary.log.lines.filter((l) => /catalog/.test(l)).slice(0, 6).join('\n'));
  } finally {
    await secondary.stop();
    await primary.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
