// Slowloris and idle connections: 500 TCP connections that send nothing or trickle a query
// one byte at a time do not stop UDP service or new TCP clients, and the server closes them
// after its idle / message timeouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { query, requirePortcullis, startPortcullis } from './harness/index.js';
import { openFiles, pidWithArg, repoRoot } from './harden-lib.js';
import { buildQuery } from './harness/query.js';

const ADDRESS = '127.0.0.98';
const PORT = 16460;
const CONNECTIONS = 500;

function open(localAddress: string): Promise<Socket> {
  return new Promise((res, rej) => {
    const s = connect({ host: ADDRESS, port: PORT, localAddress });
    s.once('error', rej);
    s.once('connect', () => {
      s.off('error', rej);
      s.on('error', () => undefined);
      res(s);
    });
  });
}

test('500 idle and slow TCP connections do not stop UDP or new TCP service; the server closes them', {
  skip: requirePortcullis(), timeout: 120_000,
}, async (t) => {
  const server = await startPortcullis({
    address: ADDRESS, port: PORT,
    zones: [{ name: 'example.test', file: join(repoRoot(), 'examples', 'zones', 'example.test.zone') }],
    // The defaults (1000 connections, 20 per client), shorter timeouts to keep the test short.
    extraYaml: ['tcp: { idle-timeout: 4, message-timeout: 3, max-connections: 1000, max-connections-per-client: 20 }'],
  });
  const sockets: Socket[] = [];
  let trickle: NodeJS.Timeout | undefined;
  try {
    const pid = pidWithArg(server.dir)!;
    const before = openFiles(pid).sockets;
    // 25 client addresses × 20 connections: each within the per-client cap, so all are accepted.
    for (let i = 0; i < CONNECTIONS; i++) sockets.push(await open(`127.0.7.${1 + Math.floor(i / 20)}`));
    const closedByServer = new Set<Socket>();
    for (const s of sockets) s.on('close', () => closedByServer.add(s));
    // Half stay silent; the other half trickle a query one byte every 500 ms (slowloris).
    const slow = sockets.filter((_, i) => i % 2 === 1);
    const frame = buildQuery('www.example.test', 'A').wire;
    const framed = Buffer.concat([Buffer.from([frame.length >> 8, frame.length & 0xff]), frame]);
    let pos = 0;
    trickle = setInterval(() => {
      for (const s of slow) if (!s.destroyed) s.write(framed.subarray(pos % framed.length, (pos % framed.length) + 1));
      pos++;
    }, 500);
    await new Promise((r) => setTimeout(r, 300));
    const held = openFiles(pid).sockets - before;
    t.diagnostic(`server holds ${held} more sockets with ${CONNECTIONS} connections open`);
    assert.ok(held >= CONNECTIONS * 0.95, `the server accepted the connections (${held})`);

    // Service goes on: UDP and fresh TCP clients from another address, repeatedly.
    let udpOk = 0;
    let tcpOk = 0;
    let slowest = 0;
    for (let i = 0; i < 20; i++) {
      const t0 = Date.now();
      const u = await query({ address: ADDRESS, port: PORT }, 'www.example.test', 'A', { timeoutMs: 2000, attempts: 2 });
      if (u.message.rcode === 0 && u.message.answer.length > 0) udpOk++;
      const c = await query({ address: ADDRESS, port: PORT }, 'big.example.test', 'TXT', { tcp: true, timeoutMs: 3000 });
      if (c.message.rcode === 0 && c.message.answer.length > 0 && !c.message.tc) tcpOk++;
      slowest = Math.max(slowest, Date.now() - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
    t.diagnostic(`while held: UDP ${udpOk}/20, new TCP ${tcpOk}/20, slowest pair ${slowest} ms`);
    assert.equal(udpOk, 20, 'UDP answered throughout');
    assert.equal(tcpOk, 20, 'new TCP connections answered throughout');

    // The timeouts clean up: idle ones after 4 s, trickling ones once a message takes over 3 s.
    for (const deadline = Date.now() + 15_000; Date.now() < deadline && closedByServer.size < CONNECTIONS;) await new Promise((r) => setTimeout(r, 250));
    t.diagnostic(`closed by the server: ${closedByServer.size}/${CONNECTIONS}; sockets held now ${openFiles(pid).sockets - before}`);
    assert.equal(closedByServer.size, CONNECTIONS, 'every idle and slow connection was closed by the server');
    assert.ok(openFiles(pid).sockets - before <= 2, 'the server released the sockets');
  } finally {
    if (trickle) clearInterval(trickle);
    for (const s of sockets) s.destroy();
    await server.stop();
  }
});
