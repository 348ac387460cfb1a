import { test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import { decodeMessage, encodeMessage, makeMessage, decodeQueryHead } from './message.js';
import { Name } from './name.js';
import { RRType, RRClass } from './constants.js';
import { recordFromText, recordToText } from './record.js';
import { WireError } from './errors.js';

test('query encodes like the dns-packet oracle and decodes back', () => {
  const q = makeMessage({ id: 0x1234, rd: true, question: [{ name: Name.parse('www.example.test.'), type: RRType.AAAA, class: RRClass.IN }] });
  const ours = encodeMessage(q);
  const oracle = dnsPacket.encode({ id: 0x1234, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: 'www.example.test', type: 'AAAA', class: 'IN' }] });
  assert.deepEqual(Buffer.from(ours), oracle);
  const back = decodeMessage(ours);
  assert.equal(back.id, 0x1234);
  assert.ok(back.rd && !back.qr);
  assert.equal(back.question[0]!.name.toString(), 'www.example.test.');
  const head = decodeQueryHead(ours);
  assert.equal(head.qtype, RRType.AAAA);
  assert.equal(head.questionEnd, ours.length);
});

test('response with EDNS, extended rcode and records round-trips', () => {
  const o = Name.parse('example.test.');
  const msg = makeMessage({
    id: 7, qr: true, aa: true, rcode: 16,
    question: [{ name: o, type: RRType.MX, class: RRClass.IN }],
    answer: [recordFromText('@ 300 IN MX 10 mail', o), recordFromText('@ 300 IN MX 20 mail2', o)],
    authority: [recordFromText('@ 300 IN NS ns1', o)],
    additional: [recordFromText('mail 300 IN A 192.0.2.1', o), recordFromText('mail 300 IN AAAA 2001:db8::1', o)],
    edns: { udpSize: 1232, version: 0, do: true, z: 0, options: [{ code: 3, data: Uint8Array.of(1, 2) }] },
  });
  const wire = encodeMessage(msg);
  const back = decodeMessage(wire);
  assert.equal(back.rcode, 16);
  assert.equal(back.edns?.udpSize, 1232);
  assert.equal(back.edns?.do, true);
  assert.deepEqual([...back.edns!.options[0]!.data], [1, 2]);
  assert.deepEqual(back.answer.map((r) => recordToText(r)), msg.answer.map((r) => recordToText(r)));
  assert.deepEqual(back.additional.map((r) => recordToText(r)), msg.additional.map((r) => recordToText(r)));
  const oracle = dnsPacket.decode(Buffer.from(wire));
  assert.equal(oracle.answers!.length, 2);
  assert.equal((oracle.answers![0] as any).data.exchange, 'mail.example.test');
});

test('truncation cuts at RRset boundaries and keeps OPT', () => {
  const o = Name.parse('example.test.');
  const answer = [];
  for (let i = 0; i < 40; i++) answer.push(recordFromText(`big 300 IN TXT "${'x'.repeat(60)}${i}"`, o));
  answer.push(recordFromText('big 300 IN A 192.0.2.9', o));
  const msg = makeMessage({
    id: 1, qr: true, question: [{ name: o.prepend('big'), type: RRType.ANY, class: RRClass.IN }], answer,
    edns: { udpSize: 512, version: 0, do: false, z: 0, options: [] },
  });
  const wire = encodeMessage(msg, { maxSize: 512 });
  assert.ok(wire.length <= 512);
  const back = decodeMessage(wire);
  assert.ok(back.tc);
  assert.equal(back.answer.length, 0, 'the TXT RRset does not fit, so none of it is sent');
  assert.ok(back.edns);
});

test('malformed messages raise WireError only', () => {
  assert.throws(() => decodeMessage(Uint8Array.of(1, 2, 3)), WireError);
  const q = encodeMessage(makeMessage({ question: [{ name: Name.parse('a.'), type: 1, class: 1 }] }));
  assert.throws(() => decodeMessage(q.subarray(0, q.length - 1)), WireError);
  const extra = new Uint8Array(q.length + 1);
  extra.set(q);
  assert.throws(() => decodeMessage(extra), /after the last record/);
});

test('encodes share one lent buffer: each result is its own copy, a writer lent meanwhile gets its own, and a failed encode gives the buffer back', async () => {
  const { WireWriter } = await import('./writer.js');
  const msg = (id: number, name: string) => makeMessage({ id, qr: true, question: [{ name: Name.parse(name), type: RRType.A, class: RRClass.IN }],
    answer: [recordFromText(`${name} 300 IN A 192.0.2.${id}`)], edns: { udpSize: 1232, version: 0, do: false, z: 0, options: [] } });
  const a = encodeMessage(msg(1, 'one.example.'));
  const aCopy = Buffer.from(a);
  const b = encodeMessage(msg(2, 'a-longer-name.example.'));
  assert.deepEqual(Buffer.from(a), aCopy, 'a later encode did not write over an earlier result');
  assert.notEqual(a.buffer, b.buffer);
  assert.equal(decodeMessage(b).answer[0]!.data.address, '192.0.2.2');
  assert.ok(a.buffer.byteLength < 4096 && b.buffer.byteLength < 4096, 'results are exact-size copies, not views of the lent buffer');
  // The same without EDNS (the result is then the writer's own copy, not one made with the OPT).
  const plain = (id: number, name: string) => ({ ...msg(id, name), edns: undefined });
  const c = encodeMessage(plain(4, 'c.example.'));
  const cCopy = Buffer.from(c);
  encodeMessage(plain(5, 'a-much-longer-name-than-before.example.'));
  assert.deepEqual(Buffer.from(c), cCopy, 'a later encode did not write over an earlier result (no EDNS)');
  assert.ok(c.buffer.byteLength < 4096);

  // While one writer holds the buffer, the next gets a buffer of its own; after giveBack, the
  // buffer is lent again.
  const first = WireWriter.lend(65535);
  const second = WireWriter.lend(65535);
  assert.notEqual(first.buf, second.buf);
  first.u16(0xabcd);
  second.u16(0x1234);
  assert.deepEqual([...first.finish()], [0xab, 0xcd]);
  const lent = first.buf;
  first.giveBack();
  second.giveBack();
  const third = WireWriter.lend(512);
  assert.equal(third.buf, lent, 'the same buffer, lent again');
  third.giveBack();

  // An encode that throws (a record whose data does not fit its type) still gives the buffer back.
  const bad = makeMessage({ id: 3, qr: true, question: [], answer: [{ name: Name.parse('x.example.'), type: RRType.A, class: RRClass.IN, ttl: 1, data: { address: 'not an address' } }] });
  assert.throws(() => encodeMessage(bad));
  const after = WireWriter.lend(512);
  assert.equal(after.buf, lent, 'given back after the failed encode');
  after.giveBack();
  assert.deepEqual(Buffer.from(encodeMessage(msg(1, 'one.example.'))), aCopy);
});
