// Resolver behaviour against a scripted miniature DNS tree (FakeUpstream), on virtual time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrustAnchors } from '../../src/dnssec/trust-anchors.js';
import { FakeUpstream } from '../../src/resolver/fake-upstream.js';
import { Resolver, type ResolverOptions } from '../../src/resolver/resolver.js';
import { rootHintsFromAddresses } from '../../src/resolver/root-hints.js';
import { ManualClock } from '../../src/resolver/types.js';
import { Name, Rcode, recordToText, RRClass, RRType, type Message, type ResourceRecord } from '../../src/wire/index.js';

process.env.PORTCULLIS_TEST_LOOPBACK_ONLY = '1';

// A test trust anchor for a zone these unsigned worlds never reach: validation runs, every answer is insecure.
const TEST_ANCHOR = TrustAnchors.parse('anchor.invalid. IN DS 1 13 2 0000000000000000000000000000000000000000000000000000000000000000');

const ROOT = '127.0.53.1', TEST = '127.0.53.2', EXAMPLE = '127.0.53.3', NET = '127.0.53.4', OTHER = '127.0.53.5', LAME = '127.0.53.9';

function world(): FakeUpstream {
  return new FakeUpstream()
    .serve([ROOT], '.', [
      '. 86400 IN SOA a.root. host.root. 1 1800 900 604800 300', '. 86400 IN NS a.root.', `a.root. 86400 IN A ${ROOT}`,
      'test. 86400 IN NS ns1.test.', `ns1.test. 86400 IN A ${TEST}`, 'net. 86400 IN NS ns.net.', `ns.net. 86400 IN A ${NET}`,
    ])
    .serve([TEST], 'test.', [
      'test. 3600 IN SOA ns1.test. host.test. 1 1800 900 604800 300', 'test. 3600 IN NS ns1.test.', `ns1.test. 3600 IN A ${TEST}`,
      'example.test. 3600 IN NS ns1.example.test.', `ns1.example.test. 3600 IN A ${EXAMPLE}`,
      'glueless.test. 3600 IN NS ns.other.net.',
      'lame.test. 3600 IN NS ns.lame.test.', `ns.lame.test. 3600 IN A ${LAME}`,
    ])
    .serve([EXAMPLE], 'example.test.', [
      'example.test. 3600 IN SOA ns1.example.test. host.example.test. 1 1800 900 604800 60',
      'example.test. 3600 IN NS ns1.example.test.', `ns1.example.test. 3600 IN A ${EXAMPLE}`,
      'www.example.test. 300 IN A 192.0.2.1', 'mail.example.test. 300 IN A 192.0.2.25',
      'alias.example.test. 300 IN CNAME www.other.net.', 'd.example.test. 300 IN DNAME other.net.',
      ...Array.from({ length: 40 }, (_, i) => `h${i}.example.test. 300 IN TXT "host number ${i} with some padding text"`),
    ])
    .serve([NET], 'net.', [
      'net. 3600 IN SOA ns.net. host.net. 1 1800 900 604800 300', 'net. 3600 IN NS ns.net.', `ns.net. 3600 IN A ${NET}`,
      'other.net. 3600 IN NS ns.other.net.', `ns.other.net. 3600 IN A ${OTHER}`,
    ])
    .serve([OTHER], 'other.net.', [
      'other.net. 3600 IN SOA ns.other.net. host.other.net. 1 1800 900 604800 300', 'other.net. 3600 IN NS ns.other.net.',
      `ns.other.net. 3600 IN A ${OTHER}`, 'www.other.net. 600 IN A 192.0.2.2', 'x.other.net. 600 IN A 192.0.2.3',
    ])
    .serve([OTHER], 'glueless.test.', [
      'glueless.test. 3600 IN SOA ns.other.net. host.other.net. 1 1800 900 604800 300', 'glueless.test. 3600 IN NS ns.other.net.',
      'host.glueless.test. 300 IN A 192.0.2.4',
    ]);
}

function setup(opts: Partial<ResolverOptions> = {}) {
  const up = world();
  const clock = new ManualClock();
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) % 10000) / 10000;
  const r = new Resolver({ rootHints: rootHintsFromAddresses([ROOT]), trustAnchors: TEST_ANCHOR, upstream: up, clock, random, caseRandomisation: false, ...opts });
  return { up, clock, r };
}

const texts = (rrs: ResourceRecord[]) => rrs.map((x) => recordToText(x));

test('RFC 1034 5.3.3: iterates from the root hints through referrals to the answer', async () => {
  const { up, r } = setup();
  const res = await r.resolve('www.example.test.', RRType.A);
  assert.equal(res.rcode, Rcode.NOERROR);
  assert.deepEqual(texts(res.answer), ['www.example.test.\t300\tIN\tA\t192.0.2.1']);
  assert.ok(up.count(ROOT) >= 1 && up.count(TEST) >= 1 && up.count(EXAMPLE) >= 1);
});

test('cache: a repeated question sends no upstream query and its TTL counts down', async () => {
  const { up, clock, r } = setup();
  await r.resolve('www.example.test.', RRType.A);
  const before = up.count();
  clock.advance(100_000);
  const res = await r.resolve('www.example.test.', RRType.A);
  assert.equal(up.count(), before);
  assert.equal(res.answer[0]!.ttl, 200);
  clock.advance(201_000);
  await r.resolve('www.example.test.', RRType.A);
  assert.ok(up.count() > before, 'expired entry is fetched again');
});

test('RFC 2308: NXDOMAIN and NODATA are cached with the SOA, TTL = min(SOA TTL, MINIMUM)', async () => {
  const { up, clock, r } = setup();
  const nx = await r.resolve('nope.example.test.', RRType.A);
  assert.equal(nx.rcode, Rcode.NXDOMAIN);
  assert.equal(nx.authority[0]!.type, RRType.SOA);
  assert.equal(nx.authority[0]!.ttl, 60);
  const nodata = await r.resolve('www.example.test.', RRType.AAAA);
  assert.equal(nodata.rcode, Rcode.NOERROR);
  assert.equal(nodata.answer.length, 0);
  assert.equal(nodata.authority[0]!.type, RRType.SOA);
  const before = up.count();
  clock.advance(30_000);
  const again = await r.resolve('nope.example.test.', RRType.MX);
  assert.equal(again.rcode, Rcode.NXDOMAIN, 'NXDOMAIN covers every type of the name');
  assert.equal(again.authority[0]!.ttl, 30);
  assert.equal(up.count(), before);
});

test('CNAME chain across zones is followed', async () => {
  const { r } = setup();
  const res = await r.resolve('alias.example.test.', RRType.A);
  assert.equal(res.rcode, Rcode.NOERROR);
  assert.deepEqual(res.answer.map((x) => x.type), [RRType.CNAME, RRType.A]);
  assert.equal((res.answer[1]!.data as { address: string }).address, '192.0.2.2');
});

test('DNAME (RFC 6672): substitution into another zone', async () => {
  const { r } = setup();
  const res = await r.resolve('x.d.example.test.', RRType.A);
  assert.equal(res.rcode, Rcode.NOERROR);
  assert.deepEqual(res.answer.map((x) => x.type), [RRType.DNAME, RRType.CNAME, RRType.A]);
  assert.equal((res.answer[2]!.data as { address: string }).address, '192.0.2.3');
});

test('glueless delegation: the NS name is resolved first', async () => {
  const { up, r } = setup();
  const res = await r.resolve('host.glueless.test.', RRType.A);
  assert.equal(res.rcode, Rcode.NOERROR);
  assert.equal((res.answer[0]!.data as { address: string }).address, '192.0.2.4');
  assert.ok(up.count(NET) >= 1, 'ns.other.net was looked up through net.');
});

test('unreachable servers: SERVFAIL with EDE 22 No Reachable Authority', async () => {
  const { r } = setup();
  const res = await r.resolve('www.lame.test.', RRType.A);
  assert.equal(res.rcode, Rcode.SERVFAIL);
  assert.equal(res.ede?.infoCode, 22);
});

test('coalescing: 100 identical concurrent questions make one upstream query', async () => {
  const { up, r } = setup();
  await r.resolve('www.example.test.', RRType.A); // warms the delegations
  up.log.length = 0;
  up.delayMs = 5;
  const all = await Promise.all(Array.from({ length: 100 }, () => r.resolve('mail.example.test.', RRType.A)));
  assert.equal(up.count(), 1);
  assert.ok(all.every((x) => x.rcode === Rcode.NOERROR && x.answer.length === 1));
  assert.equal(r.stats.coalesced, 99);
});

test('cache eviction under a small memory cap (LRU by bytes)', async () => {
  const { r } = setup({ cache: { maxBytes: 6000 } });
  for (let i = 0; i < 40; i++) await r.resolve(`h${i}.example.test.`, RRType.TXT);
  assert.ok(r.cache.stats.evictions > 0, 'entries were evicted');
  assert.ok(r.cache.byteSize <= 6000, `cache holds ${r.cache.byteSize} bytes`);
  // The most recent answer is still cached.
  assert.ok(r.cache.get(Name.parse('h39.example.test.'), RRType.TXT, RRClass.IN));
});

test('RFC 8767 serve-stale: upstreams down, the expired answer is served with TTL 30 and EDE 3', async () => {
  const { up, clock, r } = setup();
  await r.resolve('www.example.test.', RRType.A);
  clock.advance(400_000);
  for (const a of [ROOT, TEST, EXAMPLE, NET, OTHER]) up.down.add(a);
  const res = await r.resolve('www.example.test.', RRType.A);
  assert.equal(res.rcode, Rcode.NOERROR);
  assert.equal(res.answer[0]!.ttl, 30);
  assert.equal(res.ede?.infoCode, 3);
  const off = setup({ serveStale: false });
  await off.r.resolve('www.example.test.', RRType.A);
  off.clock.advance(400_000);
  for (const a of [ROOT, TEST, EXAMPLE, NET, OTHER]) off.up.down.add(a);
  assert.equal((await off.r.resolve('www.example.test.', RRType.A)).rcode, Rcode.SERVFAIL);
});

test('prefetch: a popular name in the last 10% of its TTL is refreshed in the background', async () => {
  const { up, clock, r } = setup();
  await r.resolve('www.example.test.', RRType.A);
  await r.resolve('www.example.test.', RRType.A);
  await r.resolve('www.example.test.', RRType.A);
  const before = up.count();
  clock.advance(280_000); // 20 s of 300 left
  await r.resolve('www.example.test.', RRType.A);
  await new Promise((res) => setImmediate(res));
  assert.ok(up.count() > before, 'prefetch query sent');
  assert.equal(r.stats.prefetches, 1);
  clock.advance(10_000);
  const res = await r.resolve('www.example.test.', RRType.A);
  assert.equal(res.answer[0]!.ttl, 290, 'the refreshed entry counts down from a full TTL (it would have 10 s left otherwise)');
});

test('RFC 9156: the root sees only the next label (QNAME minimisation)', async () => {
  const { up, r } = setup();
  await r.resolve('www.example.test.', RRType.A);
  // The priming query ". NS" (RFC 8109) aside, the root sees one label of the name.
  const toRoot = up.log.filter((l) => l.server === ROOT && !(l.qname === '.' && l.qtype === RRType.NS)).map((l) => l.qname);
  assert.deepEqual([...new Set(toRoot)], ['test.']);
  const off = setup({ qnameMinimisation: false });
  await off.r.resolve('www.example.test.', RRType.A);
  assert.deepEqual([...new Set(off.up.log.filter((l) => l.server === ROOT && l.qtype !== RRType.NS).map((l) => l.qname))], ['www.example.test.']);
});

test('0x20: query names carry random case; a server that lowercases gets a retry without it', async () => {
  const { up, r } = setup({ caseRandomisation: true });
  const res = await r.resolve('www.example.test.', RRType.A);
  assert.equal(res.rcode, Rcode.NOERROR);
  assert.ok(up.log.some((l) => /[A-Z]/.test(l.qname)), 'some letters were upper-cased');
  const broken = setup({ caseRandomisation: true });
  broken.up.tamper = (_s, _q, a: Message) => ({ ...a, question: a.question.map((q) => ({ ...q, name: q.name.toLowerCase() })) });
  const res2 = await broken.r.resolve('www.example.test.', RRType.A);
  assert.equal(res2.rcode, Rcode.NOERROR);
});

test('answers for another question are ignored (anti-spoofing at the resolver)', async () => {
  const { up, r } = setup();
  up.tamper = (s, q, a) => (s.address === EXAMPLE ? { ...a, question: [{ name: Name.parse('evil.example.test.'), type: q.question[0]!.type, class: 1 }] } : a);
  const res = await r.resolve('www.example.test.', RRType.A);
  assert.equal(res.rcode, Rcode.SERVFAIL);
});

test('NXNS-style amplification is bounded by the limits', async () => {
  const up = new FakeUpstream()
    .serve([ROOT], '.', ['. 86400 IN SOA a.root. h.root. 1 2 3 4 300', 'evil. 3600 IN NS ns.evil.', `ns.evil. 3600 IN A ${TEST}`])
    .serve([TEST], 'evil.', [
      'evil. 3600 IN SOA ns.evil. h.evil. 1 2 3 4 300',
      ...Array.from({ length: 60 }, (_, i) => `victim.evil. 3600 IN NS ns${i}.victim${i}.nxdomain-target.`),
    ]);
  const r = new Resolver({ rootHints: rootHintsFromAddresses([ROOT]), trustAnchors: TEST_ANCHOR, upstream: up, clock: new ManualClock(), caseRandomisation: false, limits: { maxQueries: 40, maxNsNames: 8 } });
  const res = await r.resolve('www.victim.evil.', RRType.A);
  assert.equal(res.rcode, Rcode.SERVFAIL);
  assert.ok(up.count() <= 40, `sent ${up.count()} queries`);
  assert.ok(res.ede, 'EDE says why');
});

test('CNAME loops end in SERVFAIL', async () => {
  const up = new FakeUpstream().serve([ROOT], '.', [
    '. 86400 IN SOA a.root. h.root. 1 2 3 4 300', 'a.loop. 300 IN CNAME b.loop.', 'b.loop. 300 IN CNAME a.loop.',
  ]);
  const r = new Resolver({ rootHints: rootHintsFromAddresses([ROOT]), trustAnchors: TEST_ANCHOR, upstream: up, clock: new ManualClock(), caseRandomisation: false });
  const res = await r.resolve('a.loop.', RRType.A);
  assert.equal(res.rcode, Rcode.SERVFAIL);
});

test('forwarding: a forward zone goes to its forwarder with RD set', async () => {
  const up = world().serve(['127.0.53.7'], 'corp.example.', ['corp.example. 300 IN SOA ns.corp.example. h. 1 2 3 4 60', 'db.corp.example. 300 IN A 10.9.9.9']);
  const seen: boolean[] = [];
  up.tamper = (s, q, a) => {
    if (s.address === '127.0.53.7') seen.push(q.rd);
    return a;
  };
  const r = new Resolver({
    rootHints: rootHintsFromAddresses([ROOT]), trustAnchors: TEST_ANCHOR, upstream: up, clock: new ManualClock(), caseRandomisation: false,
    forward: [{ zone: 'corp.example', to: ['127.0.53.7@15753'] }],
  });
  const res = await r.resolve('db.corp.example.', RRType.A);
  assert.equal(res.rcode, Rcode.NOERROR);
  assert.equal((res.answer[0]!.data as { address: string }).address, '10.9.9.9');
  assert.deepEqual(seen, [true]);
  assert.equal(up.count(ROOT), 0);
});

test('stub zone: iteration starts at the configured servers', async () => {
  const { up, r } = setup({ forward: [{ zone: 'example.test', to: [EXAMPLE], kind: 'stub' }] });
  const res = await r.resolve('www.example.test.', RRType.A);
  assert.equal(res.rcode, Rcode.NOERROR);
  assert.equal(up.count(ROOT), 0);
  assert.equal(up.count(EXAMPLE), 1);
});

test('glue outside the delegating zone is not used (bailiwick)', async () => {
  const up = new FakeUpstream()
    .serve([ROOT], '.', ['. 86400 IN SOA a.root. h.root. 1 2 3 4 300', 'tld. 3600 IN NS ns.tld.', `ns.tld. 3600 IN A ${TEST}`])
    .serve([TEST], 'tld.', ['tld. 3600 IN SOA ns.tld. h.tld. 1 2 3 4 300', 'zone.tld. 3600 IN NS ns.zone.tld.', `ns.zone.tld. 3600 IN A ${EXAMPLE}`])
    .serve([EXAMPLE], 'zone.tld.', ['zone.tld. 3600 IN SOA ns.zone.tld. h. 1 2 3 4 300', 'www.zone.tld. 300 IN A 192.0.2.7']);
  // The tld server slips in an address for a name in another zone.
  up.tamper = (s, _q, a) => s.address === TEST && a.authority.length > 0
    ? { ...a, additional: [...a.additional, { name: Name.parse('www.bank.'), type: RRType.A, class: 1, ttl: 3600, data: { address: '6.6.6.6' } }] }
    : a;
  const r = new Resolver({ rootHints: rootHintsFromAddresses([ROOT]), trustAnchors: TEST_ANCHOR, upstream: up, clock: new ManualClock(), caseRandomisation: false });
  assert.equal((await r.resolve('www.zone.tld.', RRType.A)).rcode, Rcode.NOERROR);
  assert.equal(r.cache.get(Name.parse('www.bank.'), RRType.A, RRClass.IN), undefined);
});
