import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { decodeMessage, encodeMessage, makeMessage, Name, RRClass, RRType, recordFromText, type Message } from '../wire/index.js';
import { ClientError, matchesQuery, queryTcp, queryUdp, transferAxfr } from './client.js';

// Loopback only, ports 15600-15609 on 127.0.0.20 (this file's share of the audit's range).
const HOST = '127.0.0.20';
const origin = Name.parse('example.test.');
const q = (type: number = RRType.A, name = 'www.example.test.'): Message =>
  makeMessage({ question: [{ name: Name.parse(name), type, class: RRClass.IN }] });

async function udpServer(port: number, respond: (m: Message, raw: Buffer) => Buffer[]): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.on('message', (raw, r) => {
    for (const out of respond(decodeMessage(raw), raw)) s.send(out, r.port, r.address);
  });
  await new Promise<void>((res) => s.bind(port, HOST, () => res()));
  return s;
}

function answerFor(m: Message, init: Partial<Message> = {}): Buffer {
  return Buffer.from(encodeMessage(makeMessage({ id: m.id, qr: true, question: m.question, answer: [recordFromText('www 60 IN A 192.0.2.1', origin)], ...init })));
}

test('UDP: random IDs, stray datagrams ignored, the matching answer returned', async () => {
  const ids = new Set<number>();
  const s = await udpServer(15600, (m) => {
    ids.add(m.id);
    // A wrong ID and a wrong question first: the client must skip both.
    const wrongId = answerFor({ ...m, id: (m.id + 1) & 0xffff });
    const wrongQ = answerFor({ ...m, question: [{ name: Name.parse('other.test.'), type: RRType.A, class: RRClass.IN }] });
    return [wrongId, wrongQ, answerFor(m)];
  });
  try {
    for (let i = 0; i < 8; i++) {
      const r = await queryUdp({ address: HOST, port: 15600 }, q(), { timeout: 2000 });
      assert.equal(r.message.answer.length, 1);
      assert.equal(r.size, r.raw.length);
      assert.ok(r.querySize > 12);
    }
    // 8 queries from a 16-bit random space: a repeated ID is possible but a constant one is a bug.
    assert.ok(ids.size > 1, `IDs were not random: ${[...ids]}`);
  } finally {
    s.close();
  }
});

test('UDP: timeout and malformed answers are typed errors', async () => {
  const silent = await udpServer(15601, () => []);
  const garbage = await udpServer(15602, (m) => [Buffer.from([m.id >> 8, m.id & 0xff, 0x80, 0, 0, 1])]);
  try {
    await assert.rejects(queryUdp({ address: HOST, port: 15601 }, q(), { timeout: 150 }), (e: unknown) => e instanceof ClientError && e.kind === 'timeout');
    await assert.rejects(queryUdp({ address: HOST, port: 15602 }, q(), { timeout: 2000 }), (e: unknown) => e instanceof ClientError && e.kind === 'malformed' && e.raw?.length === 6);
  } finally {
    silent.close();
    garbage.close();
  }
});

test('UDP and TCP: a closed port fails as refused (or times out), never with a raw socket error', async () => {
  for (const send of [queryUdp, queryTcp]) {
    await assert.rejects(send({ address: HOST, port: 15603 }, q(), { timeout: 500 }), (e: unknown) => e instanceof ClientError && (e.kind === 'refused' || e.kind === 'timeout'));
  }
});

function tcpServer(port: number, onQuery: (m: Message, sock: net.Socket) => void): Promise<net.Server> {
  const srv = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('error', () => undefined);
    sock.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const m = decodeMessage(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
        onQuery(m, sock);
      }
    });
  });
  return new Promise((res) => srv.listen(port, HOST, () => res(srv)));
}

function frame(b: Buffer): Buffer {
  const out = Buffer.alloc(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

test('TCP: length-prefixed answer reassembled from one-byte writes', async () => {
  const srv = await tcpServer(15604, (m, sock) => {
    const framed = frame(answerFor(m));
    // Dribble the answer a byte at a time to exercise reassembly.
    let i = 0;
    const tick = (): void => {
      if (i < framed.length) {
        sock.write(framed.subarray(i, i + 1));
        i++;
        setImmediate(tick);
      }
    };
    tick();
  });
  try {
    const r = await queryTcp({ address: HOST, port: 15604 }, q(), { timeout: 3000 });
    assert.equal(r.message.answer[0]!.data.address, '192.0.2.1');
  } finally {
    srv.close();
  }
});

test('TCP: a server that closes without answering gives "closed"', async () => {
  const srv = await tcpServer(15605, (_m, sock) => sock.end());
  try {
    await assert.rejects(queryTcp({ address: HOST, port: 15605 }, q(), { timeout: 2000 }), (e: unknown) => e instanceof ClientError && e.kind === 'closed');
  } finally {
    srv.close();
  }
});

test('AXFR: records gathered over several messages until the closing SOA; refusal typed', async () => {
  const soa = recordFromText('@ 300 IN SOA ns hostmaster 7 3600 600 86400 300', origin);
  const body = Array.from({ length: 30 }, (_, i) => recordFromText(`h${i} 300 IN A 192.0.2.${i + 1}`, origin));
  const srv = await tcpServer(15606, (m, sock) => {
    if (m.question[0]!.name.key !== 'example.test.') {
      sock.write(frame(Buffer.from(encodeMessage(makeMessage({ id: m.id, qr: true, rcode: 5, question: m.question })))));
      return;
    }
    const parts = [[soa, ...body.slice(0, 10)], body.slice(10, 20), [...body.slice(20), soa]];
    for (const answer of parts) sock.write(frame(Buffer.from(encodeMessage(makeMessage({ id: m.id, qr: true, aa: true, question: m.question, answer })))));
  });
  try {
    const r = await transferAxfr({ address: HOST, port: 15606 }, q(RRType.AXFR, 'example.test.'), { timeout: 3000 });
    assert.equal(r.records.length, 32);
    assert.equal(r.messages.length, 3);
    assert.equal(r.records.at(-1)!.type, RRType.SOA);
    await assert.rejects(
      transferAxfr({ address: HOST, port: 15606 }, q(RRType.AXFR, 'other.test.'), { timeout: 3000 }),
      (e: unknown) => e instanceof ClientError && e.kind === 'transfer' && e.response?.rcode === 5,
    );
  } finally {
    srv.close();
  }
});

test('matchesQuery: ID and question must agree; an empty question is accepted (FORMERR, BADVERS)', () => {
  const query = { ...q(), id: 42 };
  const good = decodeMessage(answerFor(query));
  assert.ok(matchesQuery(query, good));
  assert.ok(!matchesQuery(query, { ...good, id: 43 }));
  assert.ok(!matchesQuery(query, { ...good, question: [{ name: Name.parse('x.test.'), type: RRType.A, class: RRClass.IN }] }));
  assert.ok(!matchesQuery(query, { ...good, question: [{ ...good.question[0]!, type: RRType.AAAA }] }));
  assert.ok(matchesQuery(query, { ...good, question: [{ ...good.question[0]!, name: Name.parse('WWW.Example.TEST.') }] }));
  assert.ok(matchesQuery(query, { ...good, question: [] }));
  assert.ok(!matchesQuery(query, { ...good, qr: false }));
});
