// Response rate limiting measured on the running server: a bounded burst of identical UDP
// queries from one source gets about rate × (1 + seconds) answers (one second of burst, then the
// rate), every `slip`-th limited response comes back as an empty TC reply, and the rest are
// dropped; meanwhile a source in another prefix, a TCP client and a client with a valid DNS
// cookie are all answered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { requirePortcullis, startPortcullis, query } from './harness/index.js';
import { UdpClient, repoRoot, udpDrops } from './harden-lib.js';
import { EdnsOptionCode, Name, RRType, encodeMessage, makeMessage, type EdnsOption, type Message } from '../../src/wire/index.js';

const ADDRESS = '127.0.0.91';
const PORT = 16410;
const RATE = 50;
const SLIP = 2;
const FLOOD = 5000;
const FLOOD_MS = 2000;

interface Outcome {
  sent: number;
  answered: number;
  slipped: number;
  other: number;
  seconds: number;
  /** From the first reply to the last: how long the server took over the flood. */
  replySeconds: number;
  /** Answers per quarter second from the first reply. */
  bins: number[];
  /** Longest silence between two replies: long ones mean a process was starved of CPU. */
  maxGapMs: number;
  /** From the first query to the first reply. */
  firstReplyMs: number;
}

let nextId = 1;
function wwwQuery(options: EdnsOption[] = []): { id: number; wire: Uint8Array } {
  const id = nextId++ & 0xffff;
  const msg = makeMessage({
    id, question: [{ name: Name.parse('www.example.test.'), type: RRType.A, class: 1 }],
    edns: { udpSize: 1232, version: 0, do: false, z: 0, options },
  });
  return { id, wire: encodeMessage(msg) };
}

/**
 * Sends `count` queries from `source`, evenly over `ms`, and sorts the replies: full answers,
 * slipped (TC, empty), other.
 */
async function flood(source: string, count: number, ms: number, options: () => EdnsOption[] = () => []): Promise<Outcome> {
  const c = await UdpClient.bind(source);
  const out: Outcome = { sent: 0, answered: 0, slipped: 0, other: 0, seconds: 0, replySeconds: 0, bins: [], maxGapMs: 0, firstReplyMs: 0 };
  let firstReply = 0;
  let lastReply = 0;
  const t0 = Date.now();
  c.socket.removeAllListeners('message');
  c.socket.on('message', (buf) => {
    const now = Date.now();
    if (!firstReply) {
      firstReply = now;
      out.firstReplyMs = now - t0;
    } else out.maxGapMs = Math.max(out.maxGapMs, now - lastReply);
    lastReply = now;
    out.replySeconds = (now - firstReply) / 1000;
    const tc = (buf[2]! & 0x02) !== 0;
    const an = buf.readUInt16BE(6);
    if (!tc && an > 0) {
      out.answered++;
      const bin = Math.floor((now - firstReply) / 250);
      out.bins[bin] = (out.bins[bin] ?? 0) + 1;
    }
    else if (tc && an === 0) out.slipped++;
    else out.other++;
  });
  const ticks = Math.max(1, Math.round(ms / 10));
  const perTick = Math.ceil(count / ticks);
  for (let tick = 0; out.sent < count; tick++) {
    for (let i = 0; i < perTick && out.sent < count; i++) {
      c.socket.send(wwwQuery(options()).wire, PORT, ADDRESS);
      out.sent++;
    }
    const wait = t0 + (tick + 1) * (ms / ticks) - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  out.seconds = (Date.now() - t0) / 1000;
  // Replies still queued (a busy machine may delay the server) count too: wait until the
  // socket has been quiet for 3 s, at most 15 s.
  let lastCount = -1;
  let quietSince = Date.now();
  for (const stop = Date.now() + 15_000; Date.now() < stop && Date.now() - quietSince < 3000;) {
    await new Promise((r) => setTimeout(r, 100));
    const n = out.answered + out.slipped + out.other;
    if (n !== lastCount) {
      lastCount = n;
      quietSince = Date.now();
    }
  }
  await c.close();
  return out;
}

test('RRL: 5,000 identical queries in 2 s from one source; answers ≈ rate × (1 + s), slipped ≈ limited / slip; other sources unaffected', {
  skip: requirePortcullis(), timeout: 60_000,
}, async (t) => {
  const server = await startPortcullis({
    address: ADDRESS, port: PORT,
    zones: [{ name: 'example.test', file: join(repoRoot(), 'examples', 'zones', 'example.test.zone') }],
    extraYaml: [`rate-limit: { responses-per-second: ${RATE}, slip: ${SLIP}, window: 15 }`],
  });
  try {
    // The cookie client first learns its server cookie (one query, well under the rate).
    const clientCookie = Uint8Array.of(9, 8, 7, 6, 5, 4, 3, 2);
    const learn = await UdpClient.bind('127.0.6.1');
    const first = wwwQuery([{ code: EdnsOptionCode.COOKIE, data: clientCookie }]);
    const m = await learn.exchange(first.wire, first.id, PORT, ADDRESS);
    await learn.close();
    const cookie = m?.edns?.options.find((o) => o.code === EdnsOptionCode.COOKIE)?.data;
    assert.ok(cookie && cookie.length === 24, 'server cookie received');

    // TCP from the flooding source during the flood: never limited.
    const tcpDuring = (async () => {
      await new Promise((r) => setTimeout(r, FLOOD_MS / 2));
      const results: Message[] = [];
      for (let i = 0; i < 5; i++) results.push((await query({ address: ADDRESS, port: PORT }, 'www.example.test', 'A', { tcp: true, edns: true })).message);
      return results;
    })();

    const dropsBefore = udpDrops(ADDRESS, PORT);
    const [attack, victim, cookied, tcp] = await Promise.all([
      flood('127.0.4.1', FLOOD, FLOOD_MS),
      // Another /24, asking the very same question at a legitimate pace (30/s, under the rate).
      flood('127.0.5.1', 60, FLOOD_MS),
      // Same flood size as the attacker but with a valid server cookie: exempt.
      flood('127.0.6.1', 1000, FLOOD_MS, () => [{ code: EdnsOptionCode.COOKIE, data: cookie }]),
      tcpDuring,
    ]);
    const kernelDrops = udpDrops(ADDRESS, PORT) - dropsBefore;
    t.diagnostic(`queries the kernel dropped before the server read them: ${kernelDrops}`);
    // The bucket starts full (one second of burst) and earns RATE per second of the server's
    // time over the flood. That time is measured by the replies; on a machine so busy that the
    // server or this test stalled (a silence of more than 300 ms among the replies) it cannot
    // be measured, and only the bounds are checked.
    const span = Math.max(attack.seconds, attack.replySeconds);
    const expected = RATE * (1 + span);
    const limited = attack.sent - attack.answered;
    const clean = attack.maxGapMs <= 300 && attack.firstReplyMs <= 300 && attack.replySeconds >= attack.seconds - 0.3;
    t.diagnostic(`attacker: ${attack.sent} sent in ${attack.seconds.toFixed(2)} s, replies over ${attack.replySeconds.toFixed(2)} s → ${attack.answered} answered (expected ≈ ${expected.toFixed(0)}), ` +
      `${attack.slipped} slipped TC (expected ≈ ${(limited / SLIP).toFixed(0)}), ${attack.sent - attack.answered - attack.slipped - attack.other} dropped, ${attack.other} other; longest reply gap ${attack.maxGapMs} ms`);
    t.diagnostic(`attacker answers per 250 ms: ${Array.from(attack.bins, (n) => n ?? 0).join(' ')}`);
    t.diagnostic(`second source: ${victim.answered}/${victim.sent} answered (${victim.slipped} TC, ${victim.other} other); cookie client: ${cookied.answered}/${cookied.sent}; TCP during the flood: ${tcp.length}/5`);

    if (clean) assert.ok(Math.abs(attack.answered - expected) <= expected * 0.2 + 5, `answers ${attack.answered} within 20% of rate × (1 + ${span.toFixed(2)} s) = ${expected.toFixed(0)}`);
    else t.diagnostic(`the machine stalled (first reply after ${attack.firstReplyMs} ms, reply gap ${attack.maxGapMs} ms): answer count checked against bounds only`);
    // Bounds that hold however busy the machine: never more than the rate allows over the whole
    // observed time (plus the burst per stall), never the near-silence of debiting dropped responses.
    assert.ok(attack.answered <= RATE * (1 + span) * 1.2 + RATE * Math.ceil((attack.maxGapMs + attack.firstReplyMs) / 1000) + 5, `answers ${attack.answered} within the rate over ${span.toFixed(2)} s`);
    assert.ok(attack.answered >= RATE * 1.5, `answers ${attack.answered}: the attacker's prefix still gets the rate, not silence`);
    assert.ok(Math.abs(attack.slipped - limited / SLIP) <= (limited / SLIP) * 0.05 + 5, `slipped ${attack.slipped} ≈ limited ${limited} / ${SLIP}`);
    assert.equal(attack.other, 0, 'no reply other than an answer or an empty TC');
    assert.ok(victim.answered >= victim.sent * 0.99, `second source answered ${victim.answered}/${victim.sent} (≥ 99%)`);
    assert.ok(cookied.answered >= cookied.sent * 0.99, `valid-cookie client answered ${cookied.answered}/${cookied.sent} (≥ 99%)`);
    for (const r of tcp) assert.ok(r.rcode === 0 && !r.tc && r.answer.length > 0, 'TCP answered in full during the flood');
  } catch (e) {
    t.diagnostic(server.output().slice(-3000));
    throw e;
  } finally {
    await server.stop();
  }
});
