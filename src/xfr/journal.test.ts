import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, appendFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordFromText, recordToText, makeMessage, Name, RRType, RRClass, decodeMessage } from '../wire/index.js';
import { Journal, crc32 } from './journal.js';
import { packTransfer, axfrRecords, ixfrRecords } from './transfer.js';

const soa = (serial: number) => recordFromText(`example.test. 3600 IN SOA ns1.example.test. host.example.test. ${serial} 3600 600 86400 300`);
const entry = (from: number, to: number, i: number) => ({
  from, to,
  deleted: [soa(from)],
  added: [soa(to), recordFromText(`h${i}.example.test. 60 IN A 192.0.2.${i % 250}`)],
});

test('crc32 matches zlib', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
});

test('journal: append, reopen, chains; a torn tail is cut and reported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-journal-'));
  try {
    const path = join(dir, 'example.test.jnl');
    let j = await Journal.open(path);
    for (let i = 0; i < 5; i++) await j.append(entry(10 + i, 11 + i, i));
    await j.close();
    const full = statSync(path).size;
    j = await Journal.open(path);
    assert.equal(j.entries.length, 5);
    assert.equal(j.repairedBytes, 0);
    assert.deepEqual(j.entries[4]!.added.map((r) => recordToText(r)), entry(14, 15, 4).added.map((r) => recordToText(r)));
    assert.equal(j.chainFrom(12)!.length, 3);
    assert.equal(j.chainFrom(9), undefined, 'history does not reach back');
    await j.close();
    // Simulate a crash in the middle of writing the sixth entry.
    appendFileSync(path, Buffer.from('PCJ1\x00\x00\x01\x00garbage'));
    j = await Journal.open(path);
    assert.equal(j.entries.length, 5);
    assert.ok(j.repairedBytes > 0);
    assert.equal(statSync(path).size, full, 'the torn tail was cut');
    await j.append(entry(15, 16, 5));
    await j.close();
    // A corrupt last entry (bad CRC) is cut as well.
    truncateSync(path, statSync(path).size - 1);
    j = await Journal.open(path);
    assert.equal(j.entries.length, 5);
    await j.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('AXFR packing: SOA first and last, every record once, messages within the limit', () => {
  const records = [soa(7)];
  for (let i = 0; i < 3000; i++) records.push(recordFromText(`host${i}.example.test. 300 IN TXT "${'x'.repeat(40)} ${i}"`));
  const q = makeMessage({ id: 99, question: [{ name: Name.parse('example.test.'), type: RRType.AXFR, class: RRClass.IN }] });
  const msgs = [...packTransfer(q, axfrRecords(records[0]!, records), { maxSize: 16384, reserve: 100 })];
  assert.ok(msgs.length > 5, `${msgs.length} messages`);
  const all = msgs.flatMap((m, i) => {
    assert.ok(m.length <= 16384 - 100);
    const d = decodeMessage(m);
    assert.equal(d.id, 99);
    assert.ok(d.aa && d.qr);
    assert.equal(d.question.length, i === 0 ? 1 : 0);
    return d.answer;
  });
  assert.equal(all.length, 3002);
  assert.equal(all[0]!.type, RRType.SOA);
  assert.equal(all.at(-1)!.type, RRType.SOA);
  assert.equal(new Set(all.slice(1, -1).map((r) => r.name.key)).size, 3000);
});

test('IXFR record sequence (RFC 1995 §4)', () => {
  const chain = [entry(10, 11, 1), entry(11, 12, 2)];
  const seq = [...ixfrRecords(soa(12) as any, chain)].map((r) => (r.type === RRType.SOA ? `SOA ${(r.data as any).serial}` : r.name.toString()));
  assert.deepEqual(seq, ['SOA 12', 'SOA 10', 'SOA 11', 'h1.example.test.', 'SOA 11', 'SOA 12', 'h2.example.test.', 'SOA 12']);
});

test('journal: compact keeps the newest entries, atomically, and appends go on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-journal-'));
  try {
    const path = join(dir, 'z.jnl');
    let j = await Journal.open(path);
    for (let i = 0; i < 10; i++) await j.append(entry(i, i + 1, i));
    await j.compact(3);
    assert.deepEqual(j.entries.map((e) => e.from), [7, 8, 9]);
    await j.append(entry(10, 11, 10));
    await j.close();
    j = await Journal.open(path);
    assert.deepEqual(j.entries.map((e) => e.from), [7, 8, 9, 10]);
    assert.equal(j.repairedBytes, 0);
    assert.equal(j.chainFrom(8)!.length, 3);
    await j.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
