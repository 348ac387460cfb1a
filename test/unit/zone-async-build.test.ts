import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Name, recordFromText, recordToText } from '../../src/wire/index.js';
import { ZoneBuilder } from '../../src/zone/zone.js';

// A serving process loads big zones with finishAsync: the compile pauses between slices so
// queries keep being answered; the zone must come out exactly as finish() builds it.
test('finishAsync pauses between slices and builds the same zone as finish()', async () => {
  const origin = Name.parse('example.test.');
  const lines = ['@ 3600 IN SOA ns1 host 1 3600 600 86400 300', '@ 3600 IN NS ns1', 'ns1 3600 IN A 192.0.2.53', '*.wild 300 IN TXT "w"', 'sub 3600 IN NS ns.sub', 'ns.sub 3600 IN A 192.0.2.54'];
  for (let i = 0; i < 40_000; i++) lines.push(`h${i}.g${i % 97} 300 IN A 192.0.2.${i % 250}`);
  const records = lines.map((l) => recordFromText(l, origin));
  const sync = new ZoneBuilder(origin);
  const async = new ZoneBuilder(origin);
  for (const rr of records) {
    sync.add(rr);
    async.add(rr);
  }
  let pauses = 0;
  const a = await async.finishAsync(async () => {
    pauses++;
    await new Promise<void>((r) => setImmediate(r));
  });
  const s = sync.finish();
  assert.ok(pauses >= 5, `${pauses} pauses for ${a.nodeCount} nodes`);
  assert.equal(a.nodeCount, s.nodeCount);
  assert.deepEqual([...a.records()].map((r) => recordToText(r)), [...s.records()].map((r) => recordToText(r)));
  assert.deepEqual(a.nodes.map((n) => `${n.name} ${n.flags}`), s.nodes.map((n) => `${n.name} ${n.flags}`));
});
