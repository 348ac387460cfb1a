// Precompiled resolver replies (answer-cache.ts): a hit gives exactly the bytes the full path
// gives, for mixed case, DO/AD/CD/RD on and off, as time passes; and is dropped when the cache
// data under it changes, runs out or is flushed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { questionNameEnd } from '../../src/authoritative/step.js';
import { questionHash } from '../../src/transport/fast.js';
import { generateSigningKey, type SigningKey } from '../../src/dnssec/crypto.js';
import { makeDs } from '../../src/dnssec/ds.js';
import { dnskeyOf, signRrset } from '../../src/dnssec/sign.js';
import { TrustAnchors } from '../../src/dnssec/trust-anchors.js';
import { Algorithm } from '../../src/dnssec/types.js';
import { ttlOffsets } from '../../src/resolver/answer-cache.js';
import { Rank } from '../../src/resolver/cache.js';
import { FakeUpstream } from '../../src/resolver/fake-upstream.js';
import { Resolver, type ResolverOptions } from '../../src/resolver/resolver.js';
import { rootHintsFromAddresses } from '../../src/resolver/root-hints.js';
import { ResolverStep } from '../../src/resolver/step.js';
import { ManualClock } from '../../src/resolver/types.js';
import type { Reply, Request } from '../../src/transport/handler.js';
import { EdnsOptionCode, encodeMessage, makeMessage, Name, recordFromText, RRClass, RRType, type Message, type ResourceRecord } from '../../src/wire/index.js';

const ROOT = '127.0.53.1';
// An anchor this unsigned world never reaches: validation is on, every answer insecure.
const TEST_ANCHOR = TrustAnchors.parse('anchor.invalid. IN DS 1 13 2 0000000000000000000000000000000000000000000000000000000000000000');

const ZONE = [
  '. 86400 IN SOA a.root. h.root. 1 2 3 4 300',
  // The root's servers: priming works, and non-minimal replies carry them (more TTL fields).
  '. 86400 IN NS a.root.',
  'a.root. 86400 IN A 127.0.53.1',
  'www.example. 300 IN A 192.0.2.80',
  'www.example. 300 IN A 192.0.2.81',
  'www.example. 3600 IN AAAA 2001:db8::80',
  'alias.example. 120 IN CNAME www.example.',
  'chain.example. 45 IN CNAME Alias.Example.',
  'short.example. 7 IN A 192.0.2.7',
  'mail.example. 600 IN MX 10 mx.Example.',
  'mx.example. 600 IN A 192.0.2.25',
  'txt.example. 30 IN TXT "hello" "world"',
  'other.test. 900 IN A 198.51.100.1',
];

const QUESTIONS: Array<[string, number]> = [
  ['www.example.', RRType.A], ['www.example.', RRType.AAAA], ['www.example.', RRType.MX], ['alias.example.', RRType.A],
  ['chain.example.', RRType.A], ['chain.example.', RRType.AAAA], ['short.example.', RRType.A], ['mail.example.', RRType.MX],
  ['txt.example.', RRType.TXT], ['nothere.example.', RRType.A], ['deep.nothere.example.', RRType.AAAA], ['other.test.', RRType.A],
  ['other.test.', RRType.TXT], ['alias.example.', RRType.CNAME],
];

/** A seeded random source, so a failure can be replayed. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Flags {
  do: boolean;
  ad: boolean;
  cd: boolean;
  rd: boolean;
  edns: boolean;
  id: number;
}

function mixCase(name: string, rnd: () => number): string {
  return [...name].map((c) => (rnd() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('');
}

function request(name: string, type: number, f: Flags): Request {
  const message = makeMessage({
    id: f.id, rd: f.rd, ad: f.ad, cd: f.cd, question: [{ name: Name.parse(name), type, class: 1 }],
    edns: f.edns ? { udpSize: 1232, version: 0, do: f.do, z: 0, options: [] } : undefined,
  });
  return {
    message, raw: encodeMessage(message), client: { address: '127.0.0.1', port: 40000, family: 4 },
    local: { address: '127.0.0.1', port: 53, family: 4 }, transport: 'udp', listener: '127.0.0.1:53', receivedAt: 0n, state: {},
  };
}

const next = async (): Promise<Reply> => ({ drop: true });

/** The full path's bytes without OPT (the front appends the OPT to both). */
function bytesOf(r: Reply): Buffer {
  if (r.wire) return Buffer.from(r.wire);
  const m = r.message as Message;
  return Buffer.from(encodeMessage({ ...m, edns: undefined }));
}

const NOW = 1_700_000_000; // seconds: the signatures below are valid around this time

/** The root zone signed with one key, with an NSEC chain (RFC 4034 §4), as a signed server holds it. */
function signedRoot(key: SigningKey): ResourceRecord[] {
  const apex = Name.parse('.');
  const dnskey = dnskeyOf(key, true);
  const records = [...ZONE.map((l) => recordFromText(l)), { name: apex, type: RRType.DNSKEY, class: RRClass.IN, ttl: 3600, data: dnskey }];
  const owners = [...new Map(records.map((r) => [r.name.key, r.name])).values()].sort((a, b) => a.compare(b));
  const nsec: ResourceRecord[] = owners.map((n, i) => ({
    name: n, type: RRType.NSEC, class: RRClass.IN, ttl: 300,
    data: { next: owners[(i + 1) % owners.length]!, types: [...new Set(records.filter((r) => r.name.equals(n)).map((r) => r.type)), RRType.RRSIG, RRType.NSEC].sort((a, b) => a - b) },
  }));
  const sets = new Map<string, ResourceRecord[]>();
  for (const r of [...records, ...nsec]) sets.set(`${r.name.key}/${r.type}`, [...(sets.get(`${r.name.key}/${r.type}`) ?? []), r]);
  const sigs = [...sets.values()].map((set) => signRrset(set, { signer: apex, key, dnskey, inception: NOW - 86400, expiration: NOW + 30 * 86400 }));
  return [...records, ...nsec, ...sigs];
}

function world(opts: Partial<ResolverOptions> = {}, signed = false) {
  const clock = new ManualClock();
  let up: FakeUpstream;
  let anchors = TEST_ANCHOR;
  if (signed) {
    const key = generateSigningKey(Algorithm.ECDSAP256SHA256);
    const ds = makeDs(Name.parse('.'), dnskeyOf(key, true));
    anchors = TrustAnchors.parse(`. 3600 IN DS ${ds.keyTag} ${ds.algorithm} ${ds.digestType} ${Buffer.from(ds.digest).toString('hex')}`);
    up = new FakeUpstream().serveRecords([ROOT], '.', signedRoot(key));
  } else {
    up = new FakeUpstream().serve([ROOT], '.', ZONE);
  }
  const resolver = new Resolver({
    rootHints: rootHintsFromAddresses([ROOT]), trustAnchors: anchors, upstream: up, clock, caseRandomisation: false,
    validationTime: () => NOW + Math.floor((clock.now() - 1_000_000_000_000) / 1000), ...opts,
  });
  const step = new ResolverStep(resolver);
  const ref = new ResolverStep(resolver, { precompiled: false });
  return { clock, up, resolver, step, ref };
}

function fast(step: ResolverStep, req: Request, view?: string): Uint8Array | undefined {
  const end = questionNameEnd(req.raw);
  const dnssec = req.message.edns?.do === true;
  return step.fastAnswer(req.raw, end, dnssec, questionHash(req.raw, end, dnssec), view);
}

for (const variant of [
  { label: 'signed, validating, prefetch on', opts: {}, signed: true },
  { label: 'validating, prefetch on', opts: {} },
  { label: 'dnssec off, prefetch off, serve-stale off', opts: { dnssec: 'off' as const, prefetch: false, serveStale: false } },
  { label: 'non-minimal responses', opts: { minimalResponses: false } },
]) {
  test(`precompiled replies equal the full path byte for byte (${variant.label})`, async (t) => {
    const { clock, resolver, step, ref } = world(variant.opts, variant.signed === true);
    const rnd = seeded(0x5eed);
    const flags = (): Flags => ({ do: rnd() < 0.5, ad: rnd() < 0.3, cd: rnd() < 0.3, rd: rnd() < 0.9, edns: rnd() < 0.8, id: Math.floor(rnd() * 65536) });
    // Steps of virtual time (ms) crossing second boundaries, TTL expiries and prefetch windows.
    const steps = [0, 300, 700, 999, 1, 2500, 3000, 900, 2000, 15_000, 9_000, 20_000, 31_000, 45_000, 60_000, 180_000, 250_000, 300_000, 700_000, 3_000_000];
    let compared = 0;
    let fastHits = 0;
    let viaStepWire = 0;
    let withAd = 0;
    let withAdditional = 0;
    for (const dt of steps) {
      clock.advance(dt);
      for (const [name, type] of QUESTIONS) {
        for (let k = 0; k < 6; k++) {
          const f = flags();
          const qname = mixCase(name, rnd);
          const direct = fast(step, request(qname, type, f));
          const viaStepReq = request(qname, type, f);
          const refReq = request(qname, type, f);
          // Both start in the same turn: they read the cache in the same state as `direct`.
          const [viaStep, viaRef] = await Promise.all([step.handle(viaStepReq, next), ref.handle(refReq, next)]);
          const want = bytesOf(viaRef);
          if (direct) {
            fastHits++;
            if ((direct[3]! & 0x20) !== 0) withAd++;
            if (direct[11]! > 0) withAdditional++;
            assert.equal(refReq.state.cached, true, `${qname} ${type}: a precompiled reply for a question the cache could not answer`);
            assert.deepEqual(Buffer.from(direct), want, `${qname} ${type} ${JSON.stringify(f)} at +${dt} ms`);
          }
          if (viaStep.wire) viaStepWire++;
          if (refReq.state.cached === true && viaStepReq.state.cached === true) {
            compared++;
            assert.deepEqual(bytesOf(viaStep), want, `${qname} ${type} via the step ${JSON.stringify(f)}`);
          }
        }
      }
    }
    t.diagnostic(`${compared} replies compared, ${fastHits} precompiled hits (${withAd} with AD, ${withAdditional} with additional records), ${viaStepWire} precompiled via handle(); store: ${JSON.stringify(resolver.answers.stats)}`);
    if (variant.signed) assert.ok(withAd > 0 && withAd < fastHits, 'AD set only for DO or AD clients');
    if (variant.opts.minimalResponses === false) assert.ok(withAdditional > 0, 'non-minimal replies with the servers\' addresses were kept');
    assert.ok(fastHits > compared / 3, `precompiled replies were used (${fastHits} of ${compared})`);
    assert.ok(viaStepWire > 0);
  });
}

test('a reply changes with the cache: a new RRset, flush, expireAll', async () => {
  const { clock, resolver, step } = world({ dnssec: 'off' });
  const f: Flags = { do: false, ad: false, cd: false, rd: true, edns: true, id: 7 };
  const req = () => request('WWW.example.', RRType.A, f);
  await step.handle(req(), next); // upstream
  await step.handle(req(), next); // from the cache: kept
  assert.ok(fast(step, req()), 'kept after a reply from the cache');
  clock.advance(1000);
  assert.ok(resolver.cache.putRRset([recordFromText('www.example. 300 IN A 192.0.2.99')], Rank.ANSWER_AA));
  assert.equal(fast(step, req()), undefined, 'new data at the key: the old reply is void');
  const r = await step.handle(req(), next);
  assert.ok(bytesOf(r).includes(Buffer.from([192, 0, 2, 99])));
  await step.handle(req(), next);
  assert.ok(fast(step, req()));
  resolver.cache.flush(Name.parse('other.test.'));
  assert.equal(fast(step, req()), undefined, 'any flush voids every reply (generation)');
  await step.handle(req(), next);
  await step.handle(req(), next);
  assert.ok(fast(step, req()));
  resolver.cache.expireAll();
  assert.equal(fast(step, req()), undefined);
  assert.equal(resolver.answers.size, 0);
});

test('an NXDOMAIN cached above a kept name voids it (RFC 8020 cut)', async () => {
  const { resolver, step } = world({ dnssec: 'off' });
  const f: Flags = { do: false, ad: false, cd: false, rd: true, edns: false, id: 1 };
  const req = () => request('www.example.', RRType.A, f);
  await step.handle(req(), next);
  await step.handle(req(), next);
  assert.ok(fast(step, req()));
  const soa = [recordFromText('. 86400 IN SOA a.root. h.root. 1 2 3 4 300')];
  resolver.cache.putNegative('nxdomain', Name.parse('example.'), 0, 1, soa, Rank.ANSWER_AA);
  assert.equal(fast(step, req()), undefined);
});

test('no reply is kept once a TTL would reach 0, nor for stale or SERVFAIL answers', async () => {
  const { clock, up, resolver, step } = world({ dnssec: 'off', staleClientTimeout: 0 });
  const f: Flags = { do: false, ad: false, cd: false, rd: true, edns: true, id: 2 };
  const req = () => request('short.example.', RRType.A, f);
  await step.handle(req(), next);
  await step.handle(req(), next);
  const hit = fast(step, req());
  assert.ok(hit);
  const at = ttlOffsets(hit)!;
  assert.equal(at.length, 1);
  assert.equal(Buffer.from(hit).readUInt32BE(at[0]!), 7);
  clock.advance(5_500);
  assert.equal(Buffer.from(fast(step, req())!).readUInt32BE(at[0]!), 1, 'TTL counted down');
  clock.advance(600);
  assert.equal(fast(step, req()), undefined, 'a TTL of 0 is left to the full path');
  clock.advance(10_000);
  up.down.add(ROOT);
  const stale = await step.handle(req(), next);
  assert.ok(stale.message, 'stale answer through the full path');
  assert.equal(fast(step, req()), undefined, 'stale answers are never kept');
  const fail = await step.handle(request('gone.example.', RRType.A, f), next);
  assert.equal(fail.message!.rcode, 2);
  assert.equal(fast(step, request('gone.example.', RRType.A, f)), undefined);
  assert.ok(resolver.answers.stats.stores >= 1);
});

test('views, CD and DO are separate keys; ECS queries take the full path', async () => {
  const { step } = world({ dnssec: 'off' });
  const f: Flags = { do: false, ad: false, cd: false, rd: true, edns: true, id: 3 };
  const inView = (r: Request, v: string) => ((r.state.view = v), r);
  await step.handle(inView(request('www.example.', RRType.A, f), 'inside'), next);
  await step.handle(inView(request('www.example.', RRType.A, f), 'inside'), next);
  assert.ok(fast(step, request('www.example.', RRType.A, f), 'inside'));
  assert.equal(fast(step, request('www.example.', RRType.A, f)), undefined, 'no view is another key');
  assert.equal(fast(step, request('www.example.', RRType.A, { ...f, cd: true }), 'inside'), undefined);
  assert.equal(fast(step, request('www.example.', RRType.A, { ...f, do: true }), 'inside'), undefined);
  const plain = request('other.test.', RRType.A, f);
  const ecsMessage = { ...plain.message, edns: { ...plain.message.edns!, options: [{ code: EdnsOptionCode.CLIENT_SUBNET, data: Uint8Array.of(0, 1, 24, 0, 192, 0, 2) }] } };
  const ecs: Request = { ...plain, message: ecsMessage, raw: encodeMessage(ecsMessage) };
  await step.handle(ecs, next);
  const r = await step.handle(ecs, next);
  assert.ok(r.message && !r.wire, 'ECS: full path');
  assert.equal(fast(step, request('other.test.', RRType.A, f)), undefined, 'and nothing kept from it');
});

test('bounded: the store empties when full', async () => {
  const { resolver, step } = world({ dnssec: 'off', answerCache: 3 });
  const f: Flags = { do: false, ad: false, cd: false, rd: true, edns: false, id: 4 };
  let most = 0;
  for (const [name, type] of QUESTIONS) {
    await step.handle(request(name, type, f), next);
    await step.handle(request(name, type, f), next);
    most = Math.max(most, resolver.answers.size);
  }
  assert.ok(most <= 3 && most > 0, `held at most ${most}`);
  const off = world({ dnssec: 'off', answerCache: 0 });
  await off.step.handle(request('www.example.', RRType.A, f), next);
  const r = await off.step.handle(request('www.example.', RRType.A, f), next);
  assert.ok(r.message && !r.wire);
  assert.equal(off.resolver.answers.size, 0);
});

test('fastAnswer never throws on malformed input', async () => {
  const { step } = world({ dnssec: 'off' });
  const f: Flags = { do: false, ad: false, cd: false, rd: true, edns: false, id: 5 };
  await step.handle(request('www.example.', RRType.A, f), next);
  await step.handle(request('www.example.', RRType.A, f), next);
  const good = request('www.example.', RRType.A, f);
  const end = questionNameEnd(good.raw);
  // The good query's hash throughout: a mangled name must not match the kept key's bytes.
  const hash = questionHash(good.raw, end, false);
  const rnd = seeded(99);
  let answered = 0;
  const tries = 3000;
  for (let i = 0; i < tries; i++) {
    const raw = Uint8Array.from(good.raw);
    const n = Math.floor(rnd() * 4);
    for (let j = 0; j < n; j++) raw[Math.floor(rnd() * raw.length)] = Math.floor(rnd() * 256);
    const cut = rnd() < 0.2 ? raw.subarray(0, Math.floor(rnd() * raw.length)) : raw;
    const qend = rnd() < 0.8 ? end : Math.floor(rnd() * 300) - 20;
    const out = step.fastAnswer(cut, qend, false, hash, rnd() < 0.1 ? 'v' : undefined);
    if (out) {
      answered++;
      assert.equal(out[0], cut[0]);
      assert.equal(out[1], cut[1]);
    }
  }
  assert.equal(step.fastAnswer(new Uint8Array(0), 0, false, hash, undefined), undefined);
  assert.equal(step.fastAnswer(good.raw, -1, false, hash, undefined), undefined);
  // A QR=1 or opcode≠0 or QDCOUNT≠1 datagram is not a query to answer.
  const resp = Uint8Array.from(good.raw);
  resp[2]! |= 0x80;
  assert.equal(step.fastAnswer(resp, end, false, hash, undefined), undefined);
  assert.ok(step.fastAnswer(good.raw, end, false, hash, undefined));
  console.log(`fastAnswer: ${tries} mangled queries, ${answered} answered, none threw`);
});

test('ttlOffsets finds every TTL field and rejects trailing or short data', () => {
  const m = makeMessage({
    id: 1, qr: true, question: [{ name: Name.parse('a.example.'), type: RRType.A, class: 1 }],
    answer: [recordFromText('a.example. 77 IN CNAME b.example.'), recordFromText('b.example. 88 IN A 192.0.2.1')],
    authority: [recordFromText('example. 99 IN NS ns.example.')],
  });
  const wire = Buffer.from(encodeMessage(m));
  const at = ttlOffsets(wire)!;
  assert.deepEqual(at.map((o) => wire.readUInt32BE(o)), [77, 88, 99]);
  assert.equal(ttlOffsets(Buffer.concat([wire, Buffer.from([0])])), undefined);
  assert.equal(ttlOffsets(wire.subarray(0, wire.length - 1)), undefined);
  assert.equal(ttlOffsets(wire.subarray(0, 5)), undefined);
});

test('a change between the cache reads and the store keeps the reply out', async () => {
  const { resolver, step } = world({ dnssec: 'off' });
  const f: Flags = { do: false, ad: false, cd: false, rd: true, edns: false, id: 6 };
  const req = () => request('www.example.', RRType.A, f);
  await step.handle(req(), next); // upstream: nothing kept
  // The cache is read while handle() starts; the store comes after the await.
  const pending = step.handle(req(), next);
  resolver.cache.putRRset([recordFromText('www.example. 300 IN A 192.0.2.55')], Rank.ANSWER_AA);
  const r = await pending;
  assert.ok(r.message && !bytesOf(r).includes(Buffer.from([192, 0, 2, 55])), 'the reply read before the change');
  assert.equal(fast(step, req()), undefined, 'and it was not kept');
  await step.handle(req(), next);
  const now = fast(step, req());
  assert.ok(now && Buffer.from(now).includes(Buffer.from([192, 0, 2, 55])), 'the next full answer is kept');
});

test('many replies over one cached RRset (600 views, past the dependents compaction): one change voids them all', async () => {
  const { resolver, step } = world({ dnssec: 'off' });
  const base: Flags = { do: false, ad: false, cd: false, rd: true, edns: false, id: 0 };
  const rnd = seeded(7);
  // CNAME chains from many names to one target would need many zone names; the same question
  // in many views shares every key instead.
  const views = Array.from({ length: 600 }, (_, i) => `v${i}`);
  const inView = (v: string) => {
    const r = request(mixCase('www.example.', rnd), RRType.A, base);
    r.state.view = v;
    return r;
  };
  await step.handle(inView('v0'), next);
  for (let round = 0; round < 2; round++) {
    for (const v of views) await step.handle(inView(v), next);
    const kept = views.filter((v) => fast(step, request('www.example.', RRType.A, base), v) !== undefined).length;
    assert.equal(kept, views.length, `round ${round}: every view's reply kept`);
    resolver.cache.putRRset([recordFromText(`www.example. 300 IN A 192.0.2.${100 + round}`)], Rank.ANSWER_AA);
    const left = views.filter((v) => fast(step, request('www.example.', RRType.A, base), v) !== undefined).length;
    assert.equal(left, 0, `round ${round}: one change voids them all`);
  }
  assert.ok(resolver.answers.stats.invalidated >= 2 * views.length);
});

test('precompiled hits keep their cache entries young in the LRU order', async () => {
  const C = 6000;
  const run = async (hits: number): Promise<boolean> => {
    const { resolver, step } = world({ dnssec: 'off', cache: { maxBytes: C } });
    const f: Flags = { do: false, ad: false, cd: false, rd: true, edns: false, id: 8 };
    const req = () => request('www.example.', RRType.A, f);
    await step.handle(req(), next);
    await step.handle(req(), next);
    let n = 0;
    const filler = () => resolver.cache.putRRset([recordFromText(`f${n++}.example. 300 IN A 192.0.2.1`)], Rank.ANSWER_AA);
    const before = resolver.cache.byteSize;
    filler();
    const size = resolver.cache.byteSize - before;
    // Half the cache in fillers, the hits, then 60% more: the fillers alone outgrow the cache.
    while (n * size < C * 0.5) filler();
    for (let i = 0; i < hits; i++) assert.ok(fast(step, req()));
    const total = n + Math.ceil((C * 0.6) / size);
    while (n < total) filler();
    assert.ok(resolver.cache.stats.evictions > 0);
    return resolver.cache.get(Name.parse('www.example.'), RRType.A, 1) !== undefined;
  };
  assert.equal(await run(0), false, 'without hits the old entry goes');
  assert.equal(await run(40), true, 'with precompiled hits it stays');
});
