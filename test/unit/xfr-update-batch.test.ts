// Group commit of dynamic updates (RFC 2136) and updates to online-signed zones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeMessage, Name, Opcode, Rcode, RRClass, RRType, recordFromText, recordToText, type Message, type ResourceRecord } from '../../src/wire/index.js';
import { exchangeUdp, transferIn, type Remote } from '../../src/xfr/client.js';
import { makeTsigKey } from '../../src/xfr/tsig.js';
import { Journal } from '../../src/xfr/journal.js';
import { ZoneSigner } from '../../src/dnssec/signer-service.js';
import { signerSettings } from '../../src/dnssec/signer-config.js';
import { dnssecZoneSchema } from '../../src/dnssec/signer-config.js';
import { buildZone } from '../../src/zone/zone.js';
import { verifyAll } from './dnssec-fixture.js';
import { KEYS, loadZoneFile, SECRET, startNode, tempDir, zoneText } from './xfr-harness.js';

const ORIGIN = 'example.test';
const origin = Name.parse(ORIGIN + '.');
const key = makeTsigKey('xfr-key', 'hmac-sha256', SECRET);

function updateMessage(updates: ResourceRecord[], prereq: ResourceRecord[] = []): Message {
  return makeMessage({ opcode: Opcode.UPDATE, question: [{ name: origin, type: RRType.SOA, class: RRClass.IN }], answer: prereq, authority: updates });
}

test('group commit: concurrent updates share rebuilds and journal flushes; each keeps its own prerequisites', async (t) => {
  const dir = tempDir('batch');
  const file = join(dir, 'z.zone');
  const extra = Array.from({ length: 2000 }, (_, i) => `h${i} 300 IN A 10.0.${i >> 8}.${i & 255}`);
  const fz = loadZoneFile(ORIGIN, file, zoneText(ORIGIN, 10, extra));
  const node = await startNode('127.0.0.82', 16310, { keys: KEYS, zones: [{ name: ORIGIN, file, 'allow-update': ['xfr-key'], 'allow-transfer': ['xfr-key'] }] }, [fz]);
  const remote: Remote = { address: '127.0.0.82', port: 16310, key, text: 'p' };
  const n = 40;
  try {
    const adds = Array.from({ length: n }, (_, i) => recordFromText(`u${i}.example.test. 60 IN A 192.0.2.${i + 1}`));
    // One update whose prerequisite ("u0 exists") holds only if u0's update was applied before it.
    const dependent = updateMessage([recordFromText('dep.example.test. 60 IN TXT "after u0"')], [{ name: adds[0]!.name, type: RRType.ANY, class: RRClass.ANY, ttl: 0, data: new Uint8Array(0) }]);
    const answers = await Promise.all([...adds.map((rr) => exchangeUdp(remote, updateMessage([rr]), 20_000)), exchangeUdp(remote, dependent, 20_000)]);
    const rcodes = answers.map((a) => a.message.rcode);
    assert.deepEqual(rcodes.slice(0, n), adds.map(() => Rcode.NOERROR));
    const mz = node.xfr.get(origin)!;
    const zone = node.zones().get(origin, RRClass.IN)!;
    const applied = rcodes.filter((r) => r === Rcode.NOERROR).length;
    assert.equal(zone.serial, 10 + applied, 'each applied update raised the serial by one');
    assert.equal(mz.batchStats.updates, applied);
    assert.ok(mz.batchStats.batches < applied, `${applied} updates in ${mz.batchStats.batches} batches`);
    t.diagnostic(`${applied} concurrent updates applied in ${mz.batchStats.batches} rebuilds/journal flushes (dependent update: rcode ${rcodes[n]})`);
    for (const rr of adds) assert.ok(zone.getNode(rr.name)?.getRRset(RRType.A), `${rr.name} served`);
    // The journal holds one entry per batch, chained from 10 to the served serial.
    const j = await Journal.open(file + '.jnl');
    assert.equal(j.entries.length, mz.batchStats.batches);
    assert.deepEqual(j.chainFrom(10)?.at(-1)?.to, zone.serial);
    for (const e of j.entries) {
      assert.equal(e.deleted.filter((r) => r.type === RRType.SOA).length, 1, 'one old SOA per entry');
      assert.equal(e.added.filter((r) => r.type === RRType.SOA).length, 1, 'one new SOA per entry');
    }
    await j.close();
    // IXFR from the start carries every record, with intermediate serials never served skipped.
    const ix = await transferIn(remote, origin, RRType.IXFR, 10);
    assert.equal(ix.kind, 'ixfr');
    if (ix.kind === 'ixfr') {
      const added = ix.entries.flatMap((e) => e.added).filter((r) => r.type === RRType.A).map((r) => recordToText(r));
      for (const rr of adds) assert.ok(added.includes(recordToText(rr)));
    }
    // A failing update inside a batch changes nothing and does not spoil the others.
    const [bad, good] = await Promise.all([
      exchangeUdp(remote, updateMessage([recordFromText('x.example.test. 60 IN A 192.0.2.200')], [{ name: Name.parse('absent.example.test.'), type: RRType.ANY, class: RRClass.ANY, ttl: 0, data: new Uint8Array(0) }])),
      exchangeUdp(remote, updateMessage([recordFromText('y.example.test. 60 IN A 192.0.2.201')])),
    ]);
    assert.equal(bad.message.rcode, Rcode.NXDOMAIN);
    assert.equal(good.message.rcode, Rcode.NOERROR);
    const z2 = node.zones().get(origin, RRClass.IN)!;
    assert.equal(z2.getNode(Name.parse('x.example.test.')), undefined);
    assert.ok(z2.getNode(Name.parse('y.example.test.')));
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('signed zone: updates are signed before they are journalled; IXFR carries RRSIG and NSEC3 changes', async (t) => {
  const dir = tempDir('signed');
  const file = join(dir, 'z.zone');
  const text = zoneText(ORIGIN, 20);
  loadZoneFile(ORIGIN, file, text);
  const settings = signerSettings(dnssecZoneSchema.parse({ sign: true }), file);
  const signer = new ZoneSigner(origin, settings);
  const now = Math.floor(Date.now() / 1000);
  const unsigned = loadZoneFile(ORIGIN, file, text);
  const fz = buildZone(origin, signer.sign([...unsigned.records()], now).records);
  const node = await startNode('127.0.0.82', 16311, { keys: KEYS, zones: [{ name: ORIGIN, file, 'allow-update': ['xfr-key'], 'allow-transfer': ['xfr-key'] }] }, [fz], { signerFor: (o) => (o.equals(origin) ? signer : undefined) });
  const remote: Remote = { address: '127.0.0.82', port: 16311, key, text: 'p' };
  try {
    const add = recordFromText('signed-new.example.test. 60 IN A 192.0.2.99');
    assert.equal((await exchangeUdp(remote, updateMessage([add]))).message.rcode, Rcode.NOERROR);
    const del: ResourceRecord = { ...recordFromText('www.example.test. 300 IN AAAA 2001:db8::1'), class: RRClass.NONE, ttl: 0 };
    assert.equal((await exchangeUdp(remote, updateMessage([del]))).message.rcode, Rcode.NOERROR);
    const zone = node.zones().get(origin, RRClass.IN)!;
    assert.equal(zone.serial, 22);
    const records = [...zone.records()];
    const v = verifyAll(records, origin, now);
    assert.deepEqual(v.failures, [], 'every RRSIG of the updated zone verifies');
    assert.ok(zone.getNode(add.name)?.getRRset(RRType.RRSIG), 'the new name is signed');
    t.diagnostic(`${v.verified} signatures verified after two updates`);
    // The journal entries are the signed differences.
    const ix = await transferIn(remote, origin, RRType.IXFR, 20);
    assert.equal(ix.kind, 'ixfr');
    if (ix.kind !== 'ixfr') return;
    assert.deepEqual(ix.entries.map((e) => [e.from, e.to]), [[20, 21], [21, 22]]);
    const first = ix.entries[0]!;
    const addedTypes = new Set(first.added.map((r) => r.type));
    assert.ok(addedTypes.has(RRType.RRSIG) && addedTypes.has(RRType.NSEC3), `IXFR adds RRSIG and NSEC3 (types ${[...addedTypes].join(',')})`);
    assert.ok(first.deleted.some((r) => r.type === RRType.NSEC3), 'the old NSEC3 neighbour is replaced');
    assert.ok(first.deleted.some((r) => r.type === RRType.RRSIG), 'old SOA signature deleted');
    // Applying the IXFR to the original signed zone gives exactly the served zone.
    const { RecordStore } = await import('../../src/xfr/record-set.js');
    const copy = new RecordStore(fz.records());
    for (const e of ix.entries) {
      for (const rr of e.deleted) assert.ok(copy.remove(rr), `deleted record was present: ${recordToText(rr)}`);
      for (const rr of e.added) copy.add(rr);
    }
    const texts = (rrs: Iterable<ResourceRecord>) => [...rrs].map((r) => recordToText(r)).sort();
    assert.deepEqual(texts(copy.records()), texts(records));
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
