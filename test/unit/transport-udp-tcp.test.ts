// UDP and TCP listeners (RFC 1035 §4.2, RFC 7766) on loopback, ports 15310-15339, with a
// small test pipeline in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeMessage, makeMessage, Rcode, recordFromText, RRType, Name } from '../../src/wire/index.js';
import type { Step } from '../../src/transport/handler.js';
import { parseListenAddress } from '../../src/transport/address.js';
import { UdpListener } from '../../src/transport/udp.js';
import { TcpListener, type TcpOptions } from '../../src/transport/tcp.js';
import { composePipeline } from '../../src/server/pipeline.js';
import { FrontStep } from '../../src/server/front.js';
import { makeResponse } from '../../src/server/response.js';
import { query, TcpClient, udpExchange, udpSilence } from './server-harness.js';

/** Answers A queries with an address derived from the ID, after a delay that varies per ID. */
function echoStep(opts: { delay?: (id: number) => number; concurrency?: { now: number; max: number } } = {}): Step {
  return {
    name: 'echo',
    phase: 'answer',
    async handle(req) {
      const c = opts.concurrency;
      if (c) c.max = Math.max(c.max, ++c.now);
      const d = opts.delay?.(req.message.id) ?? 0;
      if (d > 0) await sleep(d);
      if (c) c.now--;
      const q = req.message.question[0]!;
      const r = makeResponse(req.message, Rcode.NOERROR);
      const id = req.message.id;
      return { message: { ...r, aa: true, answer: [recordFromText(`${q.name} 60 IN A 10.${id >> 8}.${id & 255}.1`, Name.root)] } };
    },
  };
}

async function start(port: number, steps: Step[], tcpOpts: TcpOptions = {}, host = '127.0.0.1') {
  const handler = composePipeline([new FrontStep(), ...steps]);
  const a = parseListenAddress(host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
  const udp = new UdpListener(a, handler);
  const tcp = new TcpListener(a, handler, tcpOpts);
  await udp.start();
  await tcp.start();
  return { udp, tcp, close: () => Promise.all([udp.close(), tcp.close(500)]) };
}

test('listen addresses parse (IPv4, bracketed IPv6, schemes, default ports) and bad ones are explained', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:5353'), { scheme: 'dns', host: '127.0.0.1', port: 5353, family: 4, text: '127.0.0.1:5353' });
  assert.equal(parseListenAddress('[::1]:5353').host, '::1');
  assert.equal(parseListenAddress('::1').port, 53);
  assert.equal(parseListenAddress('tls://0.0.0.0').port, 853);
  assert.equal(parseListenAddress('https://[::]:8443/dns-query').scheme, 'https');
  for (const bad of ['localhost:53', '127.0.0.1:70000', '[::1', 'ftp://1.2.3.4', '1.2.3.4:x', 'https://1.2.3.4/other']) assert.throws(() => parseListenAddress(bad), Error, bad);
});

test('UDP answers over IPv4 and IPv6; malformed → FORMERR; responses and garbage are dropped', async () => {
  const v4 = await start(15310, [echoStep()]);
  const v6 = await start(15311, [echoStep()], {}, '::1');
  try {
    const a = await udpExchange(15310, query('a.example.', 'A', { id: 0x0102 }));
    assert.equal(a.msg.id, 0x0102);
    assert.equal(a.msg.answer[0]!.data.address, '10.1.2.1');
    const b = await udpExchange(15311, query('b.example.', 'A', { id: 7 }), '::1');
    assert.equal(b.msg.rcode, Rcode.NOERROR);
    assert.equal(b.msg.answer.length, 1);

    const good = query('x.example.', 'A', { id: 99 });
    const junk = new Uint8Array([...good.slice(0, 11), 1, ...good.slice(12), 0xde, 0xad]);
    const f = await udpExchange(15310, junk);
    assert.equal(f.msg.rcode, Rcode.FORMERR);
    assert.equal(f.msg.id, 99);
    const response = encodeMessage({ ...makeMessage({ id: 5, qr: true }), question: [{ name: Name.parse('x.'), type: RRType.A, class: 1 }] });
    assert.equal(await udpSilence(15310, response), true, 'a response gets no answer');
    assert.equal(await udpSilence(15310, new Uint8Array([1, 2, 3])), true, 'garbage gets no answer');
    assert.ok(v4.udp.stats.dropped >= 2);
  } finally {
    await v4.close();
    await v6.close();
  }
});

test('TCP pipelining: 1,000 queries on one connection, answered out of order, all matched by ID', async (t) => {
  // Delays vary with the ID so later queries often finish first.
  const s = await start(15312, [echoStep({ delay: (id) => (id * 7919) % 5 })], { maxPipelined: 1000 });
  try {
    const c = await TcpClient.open(15312);
    const N = 1000;
    const sent = new Set<number>();
    for (let i = 0; i < N; i++) {
      sent.add(i + 1);
      c.send(query(`q${i}.example.`, 'A', { id: i + 1 }));
    }
    const order: number[] = [];
    for (let i = 0; i < N; i++) {
      const m = await c.read();
      assert.ok(sent.delete(m.id), `unexpected or duplicate ID ${m.id}`);
      assert.equal(m.question[0]!.name.toString(), `q${m.id - 1}.example.`, 'answer matches its query');
      assert.equal(m.answer[0]!.data.address, `10.${m.id >> 8}.${m.id & 255}.1`);
      order.push(m.id);
    }
    assert.equal(sent.size, 0);
    const outOfOrder = order.filter((id, i) => i > 0 && id < order[i - 1]!).length;
    t.diagnostic(`${N} queries answered; ${outOfOrder} answers arrived before an earlier query's`);
    assert.ok(outOfOrder > 0, 'answers were not forced into query order');
    c.close();
  } finally {
    await s.close();
  }
});

test('TCP idle timeout closes a silent connection but not one with a query in flight', async () => {
  const s = await start(15313, [echoStep({ delay: (id) => (id === 42 ? 700 : 0) })], { idleTimeoutMs: 200 });
  try {
    const idle = await TcpClient.open(15313);
    const busy = await TcpClient.open(15313);
    busy.send(query('slow.example.', 'A', { id: 42 }));
    assert.equal(await idle.waitClosed(5000), true, 'idle connection closed');
    const m = await busy.read();
    assert.equal(m.id, 42, 'the slow answer arrived although it took longer than the idle timeout');
    assert.equal(await busy.waitClosed(5000), true, 'then it went idle and was closed');
    assert.ok(s.tcp.stats.idleClosed >= 2);
  } finally {
    await s.close();
  }
});

test('TCP slow message (slowloris): a frame that does not complete in time closes the connection', async () => {
  const s = await start(15314, [echoStep()], { messageTimeoutMs: 200, idleTimeoutMs: 60_000 });
  try {
    const c = await TcpClient.open(15314);
    const q = query('x.example.', 'A', { id: 1 });
    const framed = Buffer.alloc(q.length + 2);
    framed.writeUInt16BE(q.length, 0);
    framed.set(q, 2);
    c.sendRaw(framed.subarray(0, 5)); // length and 3 bytes, then nothing
    assert.equal(await c.waitClosed(5000), true);
    assert.equal(s.tcp.stats.slowClosed, 1);
    // A complete message in two parts, quickly, is fine.
    const ok = await TcpClient.open(15314);
    ok.sendRaw(framed.subarray(0, 5));
    await sleep(20);
    ok.sendRaw(framed.subarray(5));
    assert.equal((await ok.read()).id, 1);
    ok.close();
  } finally {
    await s.close();
  }
});

test('TCP connection caps: per client and in total; closed connections free their slots', async () => {
  const s = await start(15315, [echoStep()], { maxConnectionsPerClient: 3, maxConnections: 5 });
  try {
    const conns = await Promise.all([1, 2, 3].map(() => TcpClient.open(15315)));
    const fourth = await TcpClient.open(15315);
    assert.equal(await fourth.waitClosed(3000), true, 'the 4th connection from one address is closed');
    assert.equal(s.tcp.stats.rejected, 1);
    // From another loopback address the per-client cap is separate, the total cap is not.
    const other = await Promise.all([1, 2].map(() => TcpClient.open(15315, '127.0.0.1')));
    assert.equal(await other[0]!.waitClosed(300), true, 'same client address: over its cap');
    conns[0]!.close();
    await sleep(100);
    const again = await TcpClient.open(15315);
    again.send(query('x.example.', 'A', { id: 3 }));
    assert.equal((await again.read()).id, 3, 'a freed slot is usable');
    for (const c of [...conns, again, ...other]) c.close();
  } finally {
    await s.close();
  }
});

test('500 idle TCP connections while UDP keeps answering', async (t) => {
  const s = await start(15316, [echoStep()], { maxConnections: 600, maxConnectionsPerClient: 600, idleTimeoutMs: 60_000 });
  const conns: TcpClient[] = [];
  try {
    for (let i = 0; i < 500; i++) conns.push(await TcpClient.open(15316));
    await sleep(50);
    assert.equal(s.tcp.connections.size, 500);
    let answered = 0;
    for (let i = 0; i < 100; i++) {
      const r = await udpExchange(15316, query(`u${i}.example.`, 'A', { id: 1000 + i }));
      if (r.msg.id === 1000 + i && r.msg.rcode === Rcode.NOERROR) answered++;
    }
    t.diagnostic(`500 TCP connections open; ${answered}/100 UDP queries answered`);
    assert.equal(answered, 100);
    // And a query on one of the idle connections still works.
    conns[250]!.send(query('t.example.', 'A', { id: 77 }));
    assert.equal((await conns[250]!.read()).id, 77);
  } finally {
    for (const c of conns) c.close();
    for (let i = 0; i < 100 && s.tcp.connections.size > 0; i++) await sleep(20);
    assert.equal(s.tcp.connections.size, 0, 'every connection cleaned up');
    await s.close();
  }
});

test('TCP backpressure: a client that sends 3,000 queries without reading never has more than max-pipelined in flight', async (t) => {
  const conc = { now: 0, max: 0 };
  const s = await start(15317, [echoStep({ concurrency: conc, delay: () => 1 })], { maxPipelined: 20 });
  try {
    const c = await TcpClient.open(15317);
    c.socket.pause(); // do not read: the server's writes back up
    const N = 3000;
    for (let i = 0; i < N; i++) c.send(query(`b${i}.example.`, 'A', { id: (i % 65535) + 1 }));
    await sleep(300);
    c.socket.resume();
    const ids = new Set<number>();
    for (let i = 0; i < N; i++) ids.add((await c.read()).id);
    t.diagnostic(`${N} queries sent unread; ${ids.size} distinct answers; max in flight ${conc.max}`);
    assert.equal(ids.size, N);
    assert.ok(conc.max <= 20, `in flight ${conc.max} ≤ 20`);
    c.close();
  } finally {
    await s.close();
  }
});

test('close() drains: a query in flight is still answered over UDP and TCP', async () => {
  const s = await start(15318, [echoStep({ delay: () => 200 })]);
  const c = await TcpClient.open(15318);
  c.send(query('d.example.', 'A', { id: 11 }));
  const u = udpExchange(15318, query('d.example.', 'A', { id: 12 }));
  await sleep(50);
  const closing = s.close();
  assert.equal((await c.read()).id, 11);
  assert.equal((await u).msg.id, 12);
  await closing;
  assert.equal(await c.waitClosed(2000), true);
});
