import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Name, recordToText } from '../wire/index.js';
import { parseZoneText, readZoneFile, readZoneFileBatches, ZoneError } from './parser.js';

const origin = Name.parse('example.');

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'zone-batches-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('readZoneFileBatches: the same records in the same order as readZoneFile and parseZoneText', () => withDir(async (dir) => {
  const lines = ['$TTL 300', '@ SOA ns h 1 2 3 4 5', '  NS ns', 'ns A 192.0.2.1', '$INCLUDE inc.zone sub', '$GENERATE 1-3000 g$ TXT "n${0,4,d}"'];
  // Enough text for several 64 KiB chunks, so batches end at chunk ends as well as at 1024.
  for (let i = 0; i < 6000; i++) lines.push(`h${i} TXT "${'x'.repeat(20)} ${i}"`);
  const main = join(dir, 'main.zone');
  writeFileSync(main, lines.join('\n') + '\n');
  writeFileSync(join(dir, 'inc.zone'), 'a A 192.0.2.7\nb AAAA 2001:db8::7\n');
  const batches: number[] = [];
  const fromBatches: string[] = [];
  for await (const batch of readZoneFileBatches(main, { origin })) {
    batches.push(batch.length);
    for (const rr of batch) fromBatches.push(recordToText(rr));
  }
  const fromRecords: string[] = [];
  for await (const rr of readZoneFile(main, { origin })) fromRecords.push(recordToText(rr));
  const fromText = parseZoneText(lines.join('\n') + '\n', { origin, file: main }).map((rr) => recordToText(rr));
  assert.equal(fromBatches.length, 3 + 2 + 3000 + 6000);
  assert.deepEqual(fromBatches, fromRecords);
  assert.deepEqual(fromBatches, fromText);
  assert.ok(batches.every((n) => n > 0 && n <= 1024), 'no empty batch, none above 1024');
  assert.ok(batches.length >= Math.ceil(fromBatches.length / 1024));
}));

test('readZoneFileBatches: without onError the records before the first error come first, then the error', () => withDir(async (dir) => {
  const file = join(dir, 'bad.zone');
  writeFileSync(file, '$TTL 300\n@ SOA ns h 1 2 3 4 5\nok1 A 192.0.2.1\nok2 A 192.0.2.2\nbad A 999.0.0.1\nafter A 192.0.2.3\n');
  for (const read of [readZoneFile, async function* (p: string, o: { origin: Name }) {
    for await (const b of readZoneFileBatches(p, o)) yield* b;
  }]) {
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const rr of read(file, { origin })) seen.push(rr.name.toString());
    }, (e: unknown) => e instanceof ZoneError && e.line === 5 && /not an IPv4 address/.test(e.message));
    assert.deepEqual(seen, ['example.', 'ok1.example.', 'ok2.example.']);
  }
  const errors: ZoneError[] = [];
  const names: string[] = [];
  for await (const batch of readZoneFileBatches(file, { origin, onError: (e) => errors.push(e) })) for (const rr of batch) names.push(rr.name.toString());
  assert.deepEqual(names, ['example.', 'ok1.example.', 'ok2.example.', 'after.example.'], 'with onError the bad record is skipped');
  assert.deepEqual(errors.map((e) => e.line), [5]);
}));
