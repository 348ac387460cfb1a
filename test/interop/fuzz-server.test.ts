// Robustness of the running server: more than a million malformed or mutated packets over UDP
// and TCP (random bytes, truncations, bit flips, absurd counts, compression loops, broken OPT
// records, illegal labels, responses, odd opcodes, bad RDLENGTHs). Throughout, a control query
// must keep being answered correctly; afterwards the process must be alive, its memory (RSS
// from /proc) flat and its open sockets back to where they started.
//
// Sending is paced by the server itself: each sender socket sends a batch, then a control
// query, and waits for its answer before the next batch, so the kernel's receive buffer does
// not overflow and nearly every packet is really processed (the kernel's drop counter for the
// server's socket is read from /proc/net/udp and subtracted). FUZZ_SEED replays a run;
// FUZZ_PACKETS changes the total.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { requirePortcullis, startPortcullis, type RunningServer } from './harness/peers.js';
import { PacketFuzzer, type Kind } from './fuzz-packets.js';
import { UdpClient, fmt, isAlive, openFiles, pidWithArg, repoRoot, rssBytes, udpDrops } from './harden-lib.js';
import { Name, RRType, decodeMessage, encodeMessage, makeMessage, type Message } from '../../src/wire/index.js';

const ADDRESS = '127.0.0.90';
const PORT = 16400;
const TOTAL = Number(process.env.FUZZ_PACKETS ?? 1_050_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
/** Share of the packets sent as TCP frames. */
const TCP_SHARE = 0.15;
/** Hard stop for the sending phase (the whole test stays under about 3 minutes). */
const BUDGET_MS = 170_000;
const UDP_SENDERS = 6;
/** V8 old-space cap of the server under test, MB. */
const HEAP_CAP_MB = 160;
const UDP_BATCH = 64;
const TCP_CONNECTIONS = 6;
const TCP_BATCH = 100;

/**
 * The control question and the check of its answer: a name under the example zone's wildcard
 * that no fuzz seed uses, so a mutated seed's reply (its ID is random) is never taken for it.
 */
const CONTROL_KEY = 'ctl.apps.example.test.';
let controlId = 0;
function controlQuery(): { id: number; wire: Uint8Array } {
  controlId = (controlId + 1) & 0xffff;
  const msg = makeMessage({ id: controlId, question: [{ name: Name.parse('ctl.apps.example.test.'), type: RRType.A, class: 1 }] });
  return { id: controlId, wire: encodeMessage(msg) };
}
function isControl(m: Message): boolean {
  return m.question[0]?.name.key === CONTROL_KEY;
}
function controlOk(m: Message | undefined): boolean {
  return !!m && m.qr && m.rcode === 0 && m.question[0]?.name.key === CONTROL_KEY && m.answer.filter((r) => r.type === RRType.A).length === 1;
}

interface Tally {
  udp: number;
  tcp: number;
  tcpBroken: number;
  controls: number;
  controlFailures: number;
  maxControlMs: number;
  /** What went wrong with failed control queries (transport, and the reply or its absence). */
  failures: string[];
}

function noteFailure(tally: Tally, transport: string, m: Message | undefined, extra = ''): void {
  tally.controlFailures++;
  if (tally.failures.length < 10) {
    tally.failures.push(`${transport}: ${m ? `rcode ${m.rcode} tc ${m.tc} answers ${m.answer.length}` : 'no reply'}${extra}`);
  }
}

async function udpSender(i: number, fuzz: PacketFuzzer, tally: Tally, quota: () => boolean, deadline: number): Promise<void> {
  const c = await UdpClient.bind(`127.0.2.${i + 1}`);
  try {
    while (quota() && Date.now() < deadline) {
      // Sends complete in order: waiting for the last one of the batch is enough.
      for (let k = 0; k < UDP_BATCH - 1; k++) c.socket.send(fuzz.next().bytes, PORT, ADDRESS);
      await c.send(fuzz.next().bytes, PORT, ADDRESS);
      tally.udp += UDP_BATCH;
      const q = controlQuery();
      const t0 = Date.now();
      const m = await c.exchange(q.wire, q.id, PORT, ADDRESS, 2000, 4, isControl);
      tally.controls++;
      tally.maxControlMs = Math.max(tally.maxControlMs, Date.now() - t0);
      if (!controlOk(m)) noteFailure(tally, 'udp', m);
    }
  } finally {
    await c.close();
  }
}

/** A TCP connection with framing both ways; replies to control queries are matched by ID. */
class TcpClient {
  private buf = Buffer.alloc(0);
  private readonly waiting = new Map<number, (m: Message) => void>();
  closed = false;
  frames = 0;
  constructor(readonly sock: Socket) {
    sock.on('data', (d) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      while (this.buf.length >= 2) {
        const len = this.buf.readUInt16BE(0);
        if (this.buf.length < 2 + len) break;
        const frame = this.buf.subarray(2, 2 + len);
        this.buf = this.buf.subarray(2 + len);
        this.frames++;
        try {
          const m = decodeMessage(frame);
          const w = this.waiting.get(m.id);
          if (w && m.question[0]?.name.key === CONTROL_KEY) {
            this.waiting.delete(m.id);
            w(m);
          }
        } catch { /* our answers always decode; the control check catches it if not */ }
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.values()) w(undefined as unknown as Message);
      this.waiting.clear();
    });
  }

  static open(localAddress: string): Promise<TcpClient> {
    return new Promise((res, rej) => {
      const s = connect({ host: ADDRESS, port: PORT, localAddress });
      s.once('error', rej);
      s.once('connect', () => {
        s.off('error', rej);
        s.setNoDelay(true);
        res(new TcpClient(s));
      });
    });
  }

  write(frames: Uint8Array[]): Promise<void> {
    let n = 0;
    for (const f of frames) n += 2 + f.length;
    const out = Buffer.allocUnsafe(n);
    let o = 0;
    for (const f of frames) {
      out.writeUInt16BE(f.length, o);
      out.set(f, o + 2);
      o += 2 + f.length;
    }
    return new Promise((res) => {
      if (this.sock.write(out)) res();
      else this.sock.once('drain', () => res());
    });
  }

  control(timeoutMs = 3000): Promise<Message | undefined> {
    const q = controlQuery();
    return new Promise((res) => {
      const t = setTimeout(() => {
        this.waiting.delete(q.id);
        res(undefined);
      }, timeoutMs);
      this.waiting.set(q.id, (m) => {
        clearTimeout(t);
        res(m);
      });
      void this.write([q.wire]);
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((res) => {
      this.sock.once('close', () => res());
      this.sock.end();
      setTimeout(() => this.sock.destroy(), 2000).unref();
    });
  }
}

async function tcpSender(i: number, fuzz: PacketFuzzer, tally: Tally, quota: () => boolean, deadline: number): Promise<void> {
  const local = `127.0.3.${i + 1}`;
  while (quota() && Date.now() < deadline) {
    const c = await TcpClient.open(local);
    try {
      // Each connection carries a few batches, then closes: connection churn is part of the test.
      for (let b = 0; b < 20 && quota() && Date.now() < deadline && !c.closed; b++) {
        const frames: Uint8Array[] = [];
        for (let k = 0; k < TCP_BATCH; k++) frames.push(fuzz.next().bytes);
        await c.write(frames);
        tally.tcp += TCP_BATCH;
        const t0 = Date.now();
        const m = await c.control();
        tally.controls++;
        tally.maxControlMs = Math.max(tally.maxControlMs, Date.now() - t0);
        if (!controlOk(m)) noteFailure(tally, 'tcp', m, c.closed ? ' (connection closed by the server)' : '');
      }
    } finally {
      await c.close();
    }
  }
}

/** Connections that break the framing itself: a length prefix larger than what follows, then close or stall; raw junk. */
async function brokenStreams(fuzz: PacketFuzzer, tally: Tally, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const c = await TcpClient.open(`127.0.3.${100 + (i % 10)}`);
    const p = fuzz.next().bytes;
    const mode = i % 4;
    const frame = Buffer.allocUnsafe(2 + p.length);
    frame.writeUInt16BE(mode === 0 ? 0 : mode === 1 ? p.length + 100 : mode === 2 ? 0xffff : p.length, 0);
    frame.set(p, 2);
    c.sock.write(frame);
    if (mode === 3) c.sock.write(Buffer.from([0x00])); // half a length prefix, then FIN
    tally.tcpBroken++;
    await c.close();
  }
}

test('robustness: 1,000,000+ malformed packets over UDP and TCP; control queries answered, process alive, RSS flat, sockets released', {
  skip: requirePortcullis(), timeout: 300_000,
}, async (t) => {
  const root = repoRoot();
  // The server's V8 heap is capped: a leak of more than ~100 bytes per packet would exhaust it
  // over the run and crash the process, which the liveness check below catches. (RSS alone is a
  // noisy witness: the allocator and V8's young generation grow and shrink with load.)
  const savedOptions = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${savedOptions ?? ''} --max-old-space-size=${HEAP_CAP_MB}`.trim();
  const server: RunningServer = await startPortcullis({
    address: ADDRESS, port: PORT,
    zones: [{ name: 'example.test', file: join(root, 'examples', 'zones', 'example.test.zone') }],
    extraYaml: [
      'tcp: { idle-timeout: 5, message-timeout: 2, max-connections-per-client: 20 }',
      // Every table with a size cap is set small so it fills during warm-up: what still grows
      // after that is a leak. (With the defaults the detector may hold up to 100,000 entries per
      // table and RSS climbs for longer before it levels: see docs/hardening.md.)
      'detection: { max-tracked: 1000 }',
      'rate-limit: { responses-per-second: 1000, max-buckets: 1000 }',
    ],
  });
  if (savedOptions === undefined) delete process.env.NODE_OPTIONS;
  else process.env.NODE_OPTIONS = savedOptions;
  try {
    const pid = pidWithArg(server.dir);
    assert.ok(pid, 'found the server process');
    const fdsBefore = openFiles(pid);
    const dropsBefore = udpDrops(ADDRESS, PORT);
    const rssStart = rssBytes(pid);
    const tally: Tally = { udp: 0, tcp: 0, tcpBroken: 0, controls: 0, controlFailures: 0, maxControlMs: 0, failures: [] };
    const udpFuzz = new PacketFuzzer(SEED, 1400);
    const tcpFuzz = new PacketFuzzer(SEED + 1, 8192);
    const samples: Array<{ sent: number; rss: number }> = [];
    const sampler = setInterval(() => {
      try {
        samples.push({ sent: tally.udp + tally.tcp, rss: rssBytes(pid) });
      } catch { /* the process died: the assertions below say so */ }
    }, 500);
    const started = Date.now();
    const deadline = started + BUDGET_MS;
    const tcpTarget = Math.floor(TOTAL * TCP_SHARE);
    const udpTarget = TOTAL - tcpTarget;
    try {
      await Promise.all([
        ...Array.from({ length: UDP_SENDERS }, (_, i) => udpSender(i, udpFuzz, tally, () => tally.udp < udpTarget, deadline)),
        ...Array.from({ length: TCP_CONNECTIONS }, (_, i) => tcpSender(i, tcpFuzz, tally, () => tally.tcp < tcpTarget, deadline)),
        brokenStreams(tcpFuzz, tally, 200),
      ]);
    } finally {
      clearInterval(sampler);
    }
    const seconds = (Date.now() - started) / 1000;
    // Let the server finish what is queued, then look at it.
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(isAlive(pid), `server process alive after the fuzz (seed ${SEED})\n${server.output().slice(-2000)}`);
    const dropped = udpDrops(ADDRESS, PORT) - dropsBefore;
    const delivered = tally.udp - dropped + tally.tcp;

    // Sockets: every fuzz connection is gone once closed (the server may lag a little).
    let fdsAfter = openFiles(pid);
    for (let i = 0; i < 30 && fdsAfter.sockets > fdsBefore.sockets; i++) {
      await new Promise((r) => setTimeout(r, 200));
      fdsAfter = openFiles(pid);
    }
    const rssEnd = rssBytes(pid);
    // RSS after warm-up: the first sample taken after a tenth of the packets.
    const warm = samples.find((s) => s.sent >= TOTAL / 10) ?? samples[0] ?? { sent: 0, rss: rssStart };
    const peak = Math.max(...samples.map((s) => s.rss), rssEnd);
    const late = samples.filter((s) => s.sent >= TOTAL * 0.6);
    const lateMax = late.length ? Math.max(...late.map((s) => s.rss)) : rssEnd;
    const mb = (n: number): string => (n / 1048576).toFixed(1);

    const kinds = Object.entries({ ...merge(udpFuzz.counts, tcpFuzz.counts) }).map(([k, n]) => `${k} ${fmt(n)}`).join(', ');
    t.diagnostic(`seed ${SEED}: sent ${fmt(tally.udp)} UDP + ${fmt(tally.tcp)} TCP frames + ${tally.tcpBroken} broken TCP streams in ${seconds.toFixed(1)} s ` +
      `(${fmt(Math.round((tally.udp + tally.tcp) / seconds))}/s); kernel drops on the server socket ${fmt(dropped)}; processed ≥ ${fmt(delivered)}`);
    t.diagnostic(`kinds: ${kinds}`);
    t.diagnostic(`control queries ${fmt(tally.controls)}, failed ${tally.controlFailures}, slowest ${tally.maxControlMs} ms`);
    for (const f of tally.failures) t.diagnostic(`control failure: ${f}`);
    t.diagnostic(`RSS start ${mb(rssStart)} MB, after warm-up ${mb(warm.rss)} MB, peak ${mb(peak)} MB, last 40% max ${mb(lateMax)} MB, end ${mb(rssEnd)} MB; ` +
      `sockets before ${fdsBefore.sockets}, after ${fdsAfter.sockets}`);
    console.log(`# fuzz-server: ${fmt(delivered)} malformed/mutated packets processed (seed ${SEED})`);

    assert.ok(tally.udp + tally.tcp >= TOTAL, `sent ${fmt(tally.udp + tally.tcp)} of ${fmt(TOTAL)} packets within the time budget`);
    assert.ok(delivered >= Math.min(TOTAL, 1_000_000) * 0.99, `server processed ${fmt(delivered)} packets (kernel dropped ${fmt(dropped)})`);
    assert.equal(tally.controlFailures, 0, `every control query answered correctly (${tally.controlFailures} of ${tally.controls} failed)`);
    // Memory: the heap cap above catches leaks; RSS must stay bounded too.
    assert.ok(rssEnd - warm.rss < 128 * 1048576, `RSS grew by ${mb(rssEnd - warm.rss)} MB after warm-up`);
    assert.ok(peak < 400 * 1048576, `RSS peak ${mb(peak)} MB stays under 400 MB`);
    assert.ok(fdsAfter.sockets <= fdsBefore.sockets, `open sockets back to ${fdsBefore.sockets} (now ${fdsAfter.sockets})`);
    // Still serving normally over both transports.
    const c = await UdpClient.bind('127.0.2.200');
    const q = controlQuery();
    assert.ok(controlOk(await c.exchange(q.wire, q.id, PORT, ADDRESS, 1000, 3, isControl)), 'UDP answer after the fuzz');
    await c.close();
    const tc = await TcpClient.open('127.0.2.200');
    assert.ok(controlOk(await tc.control()), 'TCP answer after the fuzz');
    await tc.close();
  } finally {
    await server.stop();
  }
});

function merge(a: Record<Kind, number>, b: Record<Kind, number>): Record<Kind, number> {
  const out = { ...a };
  for (const k of Object.keys(b) as Kind[]) out[k] += b[k];
  return out;
}
