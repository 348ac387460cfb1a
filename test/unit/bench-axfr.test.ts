// The benchmark's AXFR timer against a scripted loopback TCP server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { encodeMessage, makeMessage, Name, recordFromText, RRClass, RRType } from '../../src/wire/index.js';
import { timeAxfr, walkAxfrMessage } from '../../bench/axfr.js';

const origin = Name.parse('bench.test.');
const rr = (t: string) => recordFromText(t, origin);
const soa = rr('@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300');
const question = [{ name: origin, type: RRType.AXFR, class: RRClass.IN }];

function frame(m: Uint8Array): Buffer {
  const b = Buffer.alloc(m.length + 2);
  b.writeUInt16BE(m.length, 0);
  b.set(m, 2);
  return b;
}

/** Answers every AXFR query with `messages`, written in odd-sized chunks. */
async function serve(messages: Uint8Array[], port: number): Promise<Server> {
  const server = createServer((sock) => {
    sock.once('data', () => {
      const all = Buffer.concat(messages.map(frame));
      for (let i = 0; i < all.length; i += 7) sock.write(all.subarray(i, i + 7));
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.60', r));
  return server;
}

test('walkAxfrMessage counts answers through compressed names and spots the closing SOA', () => {
  const m = encodeMessage(makeMessage({ qr: true, aa: true, question, answer: [rr('a 300 IN A 192.0.2.1'), rr('b 300 IN MX 10 a'), soa] }));
  assert.deepEqual(walkAxfrMessage(m), { rcode: 0, answers: 3, lastIsSoa: true });
  const first = encodeMessage(makeMessage({ qr: true, question, answer: [soa, rr('a 300 IN TXT "x"')] }));
  assert.equal(walkAxfrMessage(first).lastIsSoa, false);
  assert.equal(walkAxfrMessage(encodeMessage(makeMessage({ qr: true, rcode: 5, question }))).rcode, 5);
});

test('timeAxfr reads a multi-message transfer to the closing SOA', async (t) => {
  const records = Array.from({ length: 200 }, (_, i) => rr(`h${i} 300 IN A 10.0.${i >> 8}.${i & 255}`));
  const messages = [
    encodeMessage(makeMessage({ qr: true, aa: true, question, answer: [soa, ...records.slice(0, 120)] })),
    encodeMessage(makeMessage({ qr: true, aa: true, answer: [...records.slice(120), soa] })),
  ];
  const server = await serve(messages, 16190);
  try {
    const r = await timeAxfr('127.0.0.60', 16190, 'bench.test.', 10_000);
    assert.equal(r.records, 202);
    assert.equal(r.messages, 2);
    assert.ok(r.seconds >= 0 && r.bytes > 0);
    t.diagnostic(`${r.records} records in ${r.messages} messages, ${r.bytes} bytes`);
  } finally {
    server.close();
  }
});

test('timeAxfr rejects a refusal with its rcode', async () => {
  const server = await serve([encodeMessage(makeMessage({ qr: true, rcode: 5, question }))], 16191);
  try {
    await assert.rejects(timeAxfr('127.0.0.60', 16191, 'bench.test.', 10_000), /rcode 5/);
  } finally {
    server.close();
  }
});
