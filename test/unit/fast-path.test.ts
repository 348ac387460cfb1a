// The UDP fast path (src/transport/fast.ts and the steps' `fast` methods) must give exactly
// the bytes the pipeline gives, for every query it takes, under the configs that change
// answers (views, allow-query, rate limiting, the amplification cap); and must step aside
// for everything it does not handle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { writeFileSync } from 'node:fs';
import { typeFromString } from '../../src/wire/index.js';
import { parseConfigText } from '../../src/server/config.js';
import { createLogger } from '../../src/server/log.js';
import { PortcullisServer } from '../../src/server/server.js';
import { buildRequest } from '../../src/transport/request.js';
import { FastQuery, parseFastQuery, ipv6Text, wireQuestionKey } from '../../src/transport/fast.js';
import { questionKey } from '../../src/authoritative/step.js';
import type { Endpoint } from '../../src/transport/handler.js';
import { encodeQuery } from '../../bench/pipeline.js';
import { generateQueries } from '../../bench/queries.js';
import { generateZone, GEN_ORIGIN } from '../../bench/gen-zone.js';
import { query, queryMessage } from './server-harness.js';
import { tempDir } from './wiring-harness.js';
import { decodeMessage } from '../../src/wire/index.js';

const RECORDS = 3000;

/**
 * One clock for the rate limiters of both servers of a comparison, moved on by the test: the
 * two accountings of a query then happen at the same instant, so their verdicts can be
 * compared exactly (the limiter refills continuously).
 */
let clockMs = 1_000_000;
function sharedClock(s: PortcullisServer): void {
  const limiter = s.runtime.limiter;
  if (limiter) (limiter as unknown as { now: () => number }).now = () => clockMs;
}

async function server(extra: string): Promise<PortcullisServer> {
  const dir = tempDir();
  const zoneFile = join(dir, 'bench.zone');
  await generateZone(zoneFile, RECORDS);
  const text = `listen: ["127.0.0.1:0"]\nzones:\n  - name: ${GEN_ORIGIN}\n    file: ${zoneFile}\n${extra}`;
  const file = join(dir, 'p.yaml');
  writeFileSync(file, text);
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  return PortcullisServer.create({ config: parseConfigText(text, file), configFile: file, logger: createLogger({ level: 'error', stream: sink, pretty: false }) });
}

/**
 * Two servers with the same config get the same queries in the same order: `ref` through the
 * pipeline only, `fast` through the fast path first (the pipeline when it steps aside). Their
 * state (caches, rate-limit buckets) moves in step, so every reply must be the same bytes.
 */
async function compare(fastServer: PortcullisServer, ref: PortcullisServer, raws: Uint8Array[], client = '127.0.0.1'): Promise<{ fast: number; same: number; slow: number }> {
  const c: Endpoint = { address: client, port: 40000, family: 4 };
  const local: Endpoint = { address: '127.0.0.1', port: 53, family: 4 };
  const q = new FastQuery();
  q.local = local;
  let fast = 0;
  let same = 0;
  let slow = 0;
  // A server cookie holds the second it was made: those 16 bytes are compared as "present",
  // the rest byte for byte.
  const hex = (b: Uint8Array | undefined) => (b ? maskServerCookie(Buffer.from(b)).toString('hex') : 'drop');
  sharedClock(fastServer);
  sharedClock(ref);
  for (const raw of raws) {
    clockMs += 3;
    const want = await ref.dispatch(buildRequest(raw, c, local, 'udp', 'x')!);
    let got: Uint8Array | null | undefined;
    if (parseFastQuery(raw, q)) {
      q.reset();
      q.client = client;
      q.clientPort = 40000;
      q.family = 4;
      got = fastServer.fastDispatch(q);
    }
    if (got === undefined) {
      slow++;
      const r = await fastServer.dispatch(buildRequest(raw, c, local, 'udp', 'x')!);
      got = r.drop ? null : r.wire;
    } else fast++;
    const head = decodeMessage(raw).question[0];
    assert.equal(hex(got ?? undefined), hex(want.drop ? undefined : want.wire), `same reply for ${head?.name}/${head?.type}`);
    same++;
  }
  return { fast, same, slow };
}

/** The bytes with the server part of a COOKIE option (after the 8-byte client cookie) zeroed. */
function maskServerCookie(b: Buffer): Buffer {
  const out = Buffer.from(b);
  try {
    const m = decodeMessage(out);
    const c = m.edns?.options.find((o) => o.code === 10);
    if (!c || c.data.length <= 8) return out;
    const at = out.indexOf(Buffer.from(c.data));
    out.fill(0, at + 8, at + c.data.length);
  } catch {
    /* not decodable: compared as is */
  }
  return out;
}

/** `raw` (a query with an OPT and no options) with one COOKIE option of `data` added. */
function withCookie(raw: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(raw.length + 4 + data.length);
  out.set(raw);
  const rdlen = 4 + data.length;
  out[raw.length - 2] = rdlen >> 8;
  out[raw.length - 1] = rdlen & 0xff;
  out.set([0, 10, data.length >> 8, data.length & 0xff], raw.length);
  out.set(data, raw.length + 4);
  return out;
}

function mix(n: number): Uint8Array[] {
  const qs = generateQueries(RECORDS, n);
  const out: Uint8Array[] = [];
  qs.forEach((bq, i) => {
    const t = typeFromString(bq.type)!;
    out.push(encodeQuery(i & 0xffff, bq.name, t, i % 3 !== 0));
    // DO set: another cache key.
    if (i % 7 === 0) {
      const w = encodeQuery((i + 1) & 0xffff, bq.name, t, true);
      w[w.length - 4] = 0x80;
      out.push(w);
    }
  });
  return out;
}

test('fast path: the same bytes as the pipeline for the benchmark mix (default config)', async (t) => {
  const raws = mix(1500);
  const r = await compare(await server(''), await server(''), [...raws, ...raws]);
  t.diagnostic(`${r.fast} fast, ${r.slow} pipeline, ${r.same} identical`);
  assert.ok(r.fast > 1500, 'the second pass takes the fast path');
  assert.equal(r.same, raws.length * 2);
});

test('fast path: the same bytes with views, allow-query, the amplification cap and rate limiting', async (t) => {
  const config = [
    'max-amplification: 3',
    'rate-limit: { responses-per-second: 20, nxdomains-per-second: 5, slip: 2, window: 15 }',
    'acl: { near: [127.0.0.0/24] }',
    'allow-query: [near]',
  ].join('\n') + '\n';
  const f = await server(config);
  const ref = await server(config);
  // Few distinct names, many repeats: the limits are reached, so sends, slips and drops all happen.
  const raws = mix(120);
  const many = [...raws, ...raws, ...raws, ...raws, ...raws];
  const a = await compare(f, ref, many, '127.0.0.1');
  // A client outside allow-query: refused, by the pipeline (the fast path steps aside).
  const b = await compare(f, ref, raws.slice(0, 100), '127.0.1.1');
  const limited = f.runtime.limiter?.stats;
  t.diagnostic(`allowed client: ${a.fast} fast / ${a.slow} pipeline; refused client: ${b.fast} fast / ${b.slow}; limiter ${JSON.stringify(limited)}`);
  assert.ok(a.fast > 200);
  assert.equal(a.same, many.length);
  assert.equal(b.fast, 0, 'refusals are built by the pipeline');
});

test('fast path: the same bytes for queries with DNS cookies (client only, valid server cookie)', async (t) => {
  const config = 'cookies: { secret: "00112233445566778899aabbccddeeff" }\nrate-limit: { responses-per-second: 3, slip: 2 }\n';
  const f = await server(config);
  const ref = await server(config);
  const plain = mix(200).filter((w) => w[11] === 1 && parseFastQuery(w, new FastQuery()));
  const clientCookie = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const first = plain.map((w) => withCookie(w, clientCookie));
  const a = await compare(f, ref, [...first, ...first]);
  // The full cookie (client + server) from one of our replies: valid on both (same secret).
  const q = new FastQuery();
  assert.ok(parseFastQuery(first[0]!, q));
  q.reset();
  q.client = '127.0.0.1';
  const reply = f.fastDispatch(q);
  assert.ok(reply, 'answered on the fast path');
  const cookie = decodeMessage(reply).edns!.options.find((o) => o.code === 10)!.data;
  assert.equal(cookie.length, 24);
  const valid = plain.map((w) => withCookie(w, cookie));
  const before = f.runtime.limiter!.stats.responses;
  const b = await compare(f, ref, [...valid, ...valid, ...valid]);
  t.diagnostic(`client cookie: ${a.fast} fast / ${a.slow}; valid server cookie: ${b.fast} fast / ${b.slow}; cookie step ${f.runtime.cookieStep?.checked} checked, ${f.runtime.cookieStep?.valid} valid`);
  assert.ok(a.fast > 50 && b.fast > 100);
  assert.equal(f.runtime.limiter!.stats.responses, before, 'valid cookies are not rate limited');
  assert.ok((f.runtime.cookieStep?.valid ?? 0) >= b.fast);
});

test('fast path: parseFastQuery takes plain queries only', () => {
  const q = new FastQuery();
  assert.ok(parseFastQuery(query('www.example.', 'A'), q));
  assert.equal(q.qtype, 1);
  assert.ok(parseFastQuery(query('www.example.', 'AAAA', { edns: { do: true, udpSize: 4096 } }), q));
  assert.equal(q.edns, true);
  assert.equal(q.do, true);
  assert.equal(q.udpSize, 4096);
  const no = (w: Uint8Array, why: string) => assert.equal(parseFastQuery(w, q), false, why);
  no(query('www.example.', 'ANY'), 'ANY');
  no(query('www.example.', 'AXFR'), 'AXFR');
  no(query('version.bind.', 'TXT', { cls: 3 }), 'class CH');
  no(query('www.example.', 'A', { opcode: 4 }), 'NOTIFY');
  no(query('www.example.', 'A', { edns: { version: 1 } }), 'EDNS version 1');
  no(query('www.example.', 'A', { edns: { options: [{ code: 3, data: new Uint8Array(0) }] } }), 'an option other than COOKIE (NSID)');
  no(query('www.example.', 'A', { edns: { options: [{ code: 10, data: new Uint8Array(8) }, { code: 3, data: new Uint8Array(0) }] } }), 'COOKIE and another option');
  assert.ok(parseFastQuery(query('www.example.', 'A', { edns: { options: [{ code: 10, data: new Uint8Array(8) }] } }), q), 'one COOKIE option');
  assert.equal(q.cookieLength, 8);
  const resp = query('www.example.', 'A');
  resp[2]! |= 0x80;
  no(resp, 'a response');
  const trailing = new Uint8Array([...query('www.example.', 'A'), 0]);
  no(trailing, 'trailing bytes');
  no(query('www.example.', 'A').subarray(0, 20), 'cut short');
  const compressed = Uint8Array.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
  no(compressed, 'a compression pointer in the question');
});

test('fast path: the key is the authoritative cache key; names and addresses as text', () => {
  for (const name of ['www.Example.', 'a.b.c.d.', '.', 'XN--BCHER-KVA.example.']) {
    for (const dnssec of [false, true]) {
      const m = queryMessage(name, 'MX', { edns: { do: dnssec } });
      const raw = query(name, 'MX', { edns: { do: dnssec } });
      const q = new FastQuery();
      assert.ok(parseFastQuery(raw, q));
      assert.equal(q.key, questionKey(raw, m.question[0]!, dnssec));
      assert.equal(q.key, wireQuestionKey(raw, q.qnameEnd, dnssec));
    }
  }
  const v6 = (s: string) => {
    const b = new Uint8Array(16);
    const parts = s.split(':').map((x) => parseInt(x, 16));
    parts.forEach((p, i) => { b[2 * i] = p >> 8; b[2 * i + 1] = p & 255; });
    return ipv6Text(b, 0);
  };
  assert.equal(v6('0:0:0:0:0:0:0:1'), '::1');
  assert.equal(v6('0:0:0:0:0:0:0:0'), '::');
  assert.equal(v6('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  assert.equal(v6('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1');
  assert.equal(v6('fe80:0:0:0:0:0:0:5'), 'fe80::5');
  assert.equal(v6('0:0:0:0:0:ffff:c000:201'), '::ffff:192.0.2.1');
});
