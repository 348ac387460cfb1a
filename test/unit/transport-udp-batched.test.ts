// The UDP listener's two ways of doing socket I/O (the recvmmsg/sendmmsg addon and node:dgram)
// must behave the same: every query answered once, by the fast path or the pipeline, under a
// burst that fills batches; bind errors reported with their code; close() final.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { UdpListener } from '../../src/transport/udp.js';
import { parseListenAddress } from '../../src/transport/address.js';
import { loadNativeUdp, nativeUdpStatus } from '../../src/transport/udp-native.js';
import type { Handler } from '../../src/transport/handler.js';
import type { FastHandler } from '../../src/transport/fast.js';
import { query } from './server-harness.js';

/** Replies: the query with QR set and one byte appended saying who answered (1 fast, 2 pipeline). */
function reply(raw: Uint8Array, by: number): Uint8Array {
  const out = new Uint8Array(raw.length + 1);
  out.set(raw);
  out[2]! |= 0x80;
  out[raw.length] = by;
  return out;
}
// Even IDs take the fast path; odd IDs the pipeline (which answers a tick later).
const fast: FastHandler = (q) => (((q.raw[1]! & 1) === 0) ? reply(q.raw, 1) : undefined);
const handler: Handler = async (req) => {
  await new Promise((r) => setImmediate(r));
  return { wire: reply(req.raw, 2) };
};

/**
 * Sends `n` queries in waves of `wave` (each wave sent at once, so the listener reads it in
 * batches) and waits for each wave's answers (at most `waitMs` a wave): the client's own
 * receive buffer must not be what drops replies. Resolves with the replies by ID.
 */
async function burst(port: number, n: number, wave = 200, waitMs = 3000): Promise<Map<number, Uint8Array>> {
  const s = createSocket('udp4');
  const got = new Map<number, Uint8Array>();
  let waiting: (() => void) | undefined;
  let want = 0;
  s.on('message', (b) => {
    got.set((b[0]! << 8) | b[1]!, b);
    if (got.size >= want) waiting?.();
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  for (let start = 0; start < n; start += wave) {
    want = Math.min(n, start + wave);
    await new Promise<void>((r) => {
      const t = setTimeout(r, waitMs);
      waiting = () => {
        clearTimeout(t);
        r();
      };
      for (let id = start; id < want; id++) s.send(query('www.example.', 'A', { id }), port, '127.0.0.1');
    });
  }
  s.close();
  return got;
}

test('udp (batched addon): pipeline answers ready before the batch is flushed go out with it; later ones on their own', async (t) => {
  if (!loadNativeUdp()) {
    if (process.env.CI === 'true') assert.fail(`the addon must load under CI: ${nativeUdpStatus().detail}`);
    return t.skip(`addon not available: ${nativeUdpStatus().detail}`);
  }
  // Odd IDs take the pipeline. IDs 1 mod 4 answer within the batch's promise jobs (a few awaits,
  // nothing outside the process); IDs 3 mod 4 wait for the next turn of the event loop.
  const mixed: Handler = async (req) => {
    const id = (req.raw[0]! << 8) | req.raw[1]!;
    if (id % 4 === 3) await new Promise((r) => setImmediate(r));
    else for (let i = 0; i < 5; i++) await Promise.resolve();
    return { wire: reply(req.raw, id % 4 === 3 ? 3 : 2) };
  };
  const l = new UdpListener(parseListenAddress('127.0.0.1:0'), mixed, { fast, batched: true });
  await l.start();
  try {
    const n = 2000;
    const got = await burst(l.port, n);
    const size = query('www.example.', 'A', { id: 0 }).length + 1;
    let inBatchKind = 0;
    for (const [id, b] of got) {
      const by = b[b.length - 1];
      assert.equal(by, id % 2 === 0 ? 1 : id % 4 === 1 ? 2 : 3, `query ${id} answered by the right path`);
      assert.equal(b.length, size, `query ${id}: the whole reply and nothing more`);
      assert.equal((b[0]! << 8) | b[1]!, id);
      if (by === 2) inBatchKind++;
    }
    const ns = l.nativeStats()!;
    t.diagnostic(`${got.size}/${n} answered; ${l.slowInBatch} pipeline replies sent with their batch, of ${inBatchKind} that could be; addon [received, sent, errors, batches, truncated] ${ns.join(', ')}`);
    assert.equal(got.size, n, 'every query answered once');
    assert.equal(l.stats.answered, n);
    assert.equal(l.slowInBatch, inBatchKind, 'every reply ready within its batch went out with it, and no later one');
  } finally {
    await l.close();
  }
});

for (const batched of [true, false]) {
  const name = batched ? 'batched addon' : 'node:dgram';
  test(`udp (${name}): a burst of 2,000 queries, each answered once, fast or by the pipeline`, async (t) => {
    if (batched && !loadNativeUdp()) {
      if (process.env.CI === 'true') assert.fail(`the addon must load under CI: ${nativeUdpStatus().detail}`);
      return t.skip(`addon not available: ${nativeUdpStatus().detail}`);
    }
    const l = new UdpListener(parseListenAddress('127.0.0.1:0'), handler, { fast, batched });
    await l.start();
    assert.equal(l.backend, batched ? 'batched' : 'dgram');
    const n = 2000;
    const got = await burst(l.port, n);
    let fastOnes = 0;
    let slowOnes = 0;
    for (const [id, b] of got) {
      const by = b[b.length - 1];
      assert.equal(by, id % 2 === 0 ? 1 : 2, `query ${id} answered by the right path`);
      if (by === 1) fastOnes++;
      else slowOnes++;
    }
    const ns = l.nativeStats();
    t.diagnostic(`${got.size}/${n} answered (${fastOnes} fast, ${slowOnes} pipeline); listener ${JSON.stringify(l.stats)}${ns ? `; addon [received, sent, errors, batches, truncated] ${ns.join(', ')}` : ''}`);
    assert.equal(got.size, n, 'every query answered');
    assert.equal(l.stats.answered, got.size);
    assert.equal(l.fastAnswered, fastOnes);
    if (ns) {
      assert.equal(ns[0], l.stats.received);
      assert.ok(ns[3]! < ns[0]!, 'datagrams were read in batches');
    }
    await l.close();
    await l.close();
  });

  test(`udp (${name}): binding a port in use fails with EADDRINUSE`, async (t) => {
    if (batched && !loadNativeUdp()) return t.skip('addon not available');
    const a = new UdpListener(parseListenAddress('127.0.0.1:0'), handler, { batched });
    await a.start();
    const b = new UdpListener(parseListenAddress(`127.0.0.1:${a.port}`), handler, { batched });
    await assert.rejects(b.start(), (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE');
    await a.close();
  });
}
