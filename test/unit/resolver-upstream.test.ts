// NetUpstream over real loopback sockets: anti-spoofing checks, TCP, the loopback-only guard.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { test } from 'node:test';
import { isLoopback, NetUpstream } from '../../src/resolver/upstream.js';
import { UpstreamError } from '../../src/resolver/types.js';
import { parseRootHints, ianaRootHints } from '../../src/resolver/root-hints.js';
import { decodeMessage, encodeMessage, makeMessage, Name, RRType, type Message } from '../../src/wire/index.js';

process.env.PORTCULLIS_TEST_LOOPBACK_ONLY = '1';
const ADDR = '127.0.53.10';

function query(name = 'www.Example.test.'): Message {
  return makeMessage({ id: 1, question: [{ name: Name.parse(name), type: RRType.A, class: 1 }] });
}
function answerFor(q: Message, patch: Partial<Message> = {}): Uint8Array {
  return encodeMessage({ ...q, qr: true, aa: true, answer: [{ name: q.question[0]!.name, type: RRType.A, class: 1, ttl: 60, data: { address: '192.0.2.1' } }], ...patch });
}

test('UDP: spoofed packets (wrong ID, wrong question, wrong case) are dropped; the real answer is taken', async () => {
  const server = dgram.createSocket('udp4');
  await new Promise<void>((r) => server.bind(15701, ADDR, r));
  const ids = new Set<number>();
  const ports = new Set<number>();
  server.on('message', (buf, rinfo) => {
    const q = decodeMessage(buf);
    ids.add(q.id);
    ports.add(rinfo.port);
    const send = (b: Uint8Array) => server.send(b, rinfo.port, rinfo.address);
    send(answerFor(q, { id: (q.id + 1) & 0xffff }));
    send(answerFor(q, { question: [{ ...q.question[0]!, name: Name.parse('evil.test.') }] }));
    send(answerFor(q, { question: [{ ...q.question[0]!, name: q.question[0]!.name.toLowerCase() }] }));
    send(answerFor(q));
  });
  let mismatches = 0;
  const up = new NetUpstream({ onMismatch: () => mismatches++ });
  try {
    for (let i = 0; i < 5; i++) {
      const m = await up.query({ address: ADDR, port: 15701 }, query(), { tcp: false, timeout: 2000 });
      assert.equal(m.answer.length, 1);
      assert.equal(m.question[0]!.name.toString(), 'www.Example.test.');
    }
  } finally {
    server.close();
  }
  assert.equal(mismatches, 15, 'three forged packets per query were dropped');
  assert.ok(ids.size >= 4, `random IDs: ${[...ids]}`);
  assert.ok(ports.size >= 4, `fresh source ports: ${[...ports]}`);
});

test('UDP: no answer gives a timeout error', async () => {
  const up = new NetUpstream();
  await assert.rejects(up.query({ address: ADDR, port: 15702 }, query(), { tcp: false, timeout: 300 }), (e) => e instanceof UpstreamError && (e.kind === 'timeout' || e.kind === 'network'));
});

test('TCP: length-prefixed exchange with ID and question checked', async () => {
  const server = net.createServer((sock) => {
    sock.once('data', (buf) => {
      const q = decodeMessage(buf.subarray(2));
      const a = answerFor(q);
      const len = Buffer.alloc(2);
      len.writeUInt16BE(a.length);
      sock.end(Buffer.concat([len, a]));
    });
  });
  await new Promise<void>((r) => server.listen(15703, ADDR, r));
  try {
    const m = await new NetUpstream().query({ address: ADDR, port: 15703 }, query(), { tcp: true, timeout: 2000 });
    assert.equal(m.answer.length, 1);
  } finally {
    server.close();
  }
});

test('loopback-only guard refuses every other destination (env PORTCULLIS_TEST_LOOPBACK_ONLY=1)', async () => {
  const up = new NetUpstream();
  for (const a of ['192.0.2.1', '198.41.0.4', '2001:503:ba3e::2:30', '10.0.0.1']) {
    await assert.rejects(up.query({ address: a, port: 53 }, query(), { tcp: false, timeout: 100 }), (e) => e instanceof UpstreamError && e.kind === 'forbidden');
  }
  assert.ok(isLoopback('127.0.53.1') && isLoopback('::1') && !isLoopback('128.0.0.1'));
});

test('root hints: built-in IANA list and the file parser', () => {
  assert.equal(ianaRootHints.servers.length, 13);
  const h = parseRootHints('.  3600000 NS A.ROOT.TEST.\nA.ROOT.TEST. 3600000 A 127.0.53.1\n; comment\n');
  assert.deepEqual(h.servers[0]!.addresses, ['127.0.53.1']);
  assert.throws(() => parseRootHints('. NS a.root.test.\n', 'hints.txt'), /hints.txt: no address/);
  assert.throws(() => parseRootHints('. NS\n', 'hints.txt'), /hints.txt:1:/);
});
