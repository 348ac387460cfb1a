// RFC 8109 root priming, RFC 8020 NXDOMAIN cut, RFC 8767 stale answers while a resolution is
// still running, and the EDNS fallback for servers that silently drop queries with OPT.
// FakeUpstream miniature tree, virtual time (real time only where a timer is the feature).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrustAnchors } from '../../src/dnssec/trust-anchors.js';
import { FakeUpstream } from '../../src/resolver/fake-upstream.js';
import { Resolver, type ResolverOptions } from '../../src/resolver/resolver.js';
import { rootHintsFromAddresses } from '../../src/resolver/root-hints.js';
import { ManualClock } from '../../src/resolver/types.js';
import { Name, Rcode, RRClass, RRType } from '../../src/wire/index.js';

process.env.PORTCULLIS_TEST_LOOPBACK_ONLY = '1';

const TEST_ANCHOR = TrustAnchors.parse('anchor.invalid. IN DS 1 13 2 0000000000000000000000000000000000000000000000000000000000000000');
const ROOT = '127.0.53.1', TEST = '127.0.53.2', EXAMPLE = '127.0.53.3', ROOT2 = '127.0.53.11';

function world(rootNs = true): FakeUpstream {
  return new FakeUpstream()
    .serve([ROOT], '.', [
      '. 86400 IN SOA a.root. host.root. 1 1800 900 604800 300',
      ...(rootNs ? ['. 86400 IN NS a.root.', '. 86400 IN NS b.root.', `a.root. 86400 IN A ${ROOT}`, `b.root. 86400 IN A ${ROOT2}`] : []),
      'test. 86400 IN NS ns1.test.', `ns1.test. 86400 IN A ${TEST}`,
    ])
    .serve([TEST], 'test.', [
      'test. 3600 IN SOA ns1.test. host.test. 1 1800 900 604800 300', 'test. 3600 IN NS ns1.test.', `ns1.test. 3600 IN A ${TEST}`,
      'example.test. 3600 IN NS ns1.example.test.', `ns1.example.test. 3600 IN A ${EXAMPLE}`,
    ])
    .serve([EXAMPLE], 'example.test.', [
      'example.test. 3600 IN SOA ns1.example.test. host.example.test. 1 1800 900 604800 600',
      'example.test. 3600 IN NS ns1.example.test.', `ns1.example.test. 3600 IN A ${EXAMPLE}`,
      'www.example.test. 300 IN A 192.0.2.1', 'mail.example.test. 300 IN A 192.0.2.25',
    ]);
}

function setup(opts: Partial<ResolverOptions> = {}, up = world()) {
  const clock = new ManualClock();
  const r = new Resolver({ rootHints: rootHintsFromAddresses([ROOT]), trustAnchors: TEST_ANCHOR, upstream: up, clock, caseRandomisation: false, ...opts });
  return { up, clock, r };
}

test('RFC 8109: the root NS set is primed before the first iteration and again when it expires', async () => {
  const { up, r, clock } = setup();
  const a = await r.resolve('www.example.test.', RRType.A);
  assert.equal(a.rcode, Rcode.NOERROR);
  assert.deepEqual(up.log[0], { server: ROOT, qname: '.', qtype: RRType.NS, tcp: false }, 'the first query primes');
  const ns = r.cache.get(Name.root, RRType.NS, RRClass.IN);
  assert.equal(ns?.rrs.length, 2);
  // The primed set brought b.root.'s address, which the hints do not know.
  assert.equal((r.cache.get(Name.parse('b.root.'), RRType.A, RRClass.IN)?.rrs[0]?.data as { address: string }).address, ROOT2);
  assert.equal(r.stats.primes, 1);
  await r.resolve('mail.example.test.', RRType.A);
  assert.equal(r.stats.primes, 1, 'no new priming while the set is live');
  clock.advance(86_401_000);
  await r.resolve('www.example.test.', RRType.A);
  assert.equal(r.stats.primes, 2, 'primed again after expiry');
});

test('RFC 8109: a failed priming falls back to the hints as given', async () => {
  const { r } = setup({}, world(false));
  const a = await r.resolve('www.example.test.', RRType.A);
  assert.equal(a.rcode, Rcode.NOERROR);
  assert.equal(r.stats.primeFailures, 1);
  assert.equal(r.cache.get(Name.root, RRType.NS, RRClass.IN), undefined);
});

test('RFC 8109: an explicit prime() at start and primeRoot: false', async () => {
  const { r, up } = setup();
  assert.equal(await r.prime(), true);
  assert.equal(up.log.length, 1);
  const off = setup({ primeRoot: false });
  await off.r.resolve('www.example.test.', RRType.A);
  assert.ok(!off.up.log.some((l) => l.qname === '.' && l.qtype === RRType.NS));
});

test('RFC 8020: a cached NXDOMAIN answers every name below it without a query', async () => {
  const { up, r } = setup();
  assert.equal((await r.resolve('gone.example.test.', RRType.A)).rcode, Rcode.NXDOMAIN);
  const before = up.count(EXAMPLE);
  const below = await r.resolve('a.b.gone.example.test.', RRType.AAAA);
  assert.equal(below.rcode, Rcode.NXDOMAIN);
  assert.equal(below.authority[0]?.type, RRType.SOA);
  assert.equal(up.count(EXAMPLE), before, 'no upstream query');
  assert.equal(r.stats.nxdomainCut, 1);
  const off = setup({ nxdomainCut: false });
  await off.r.resolve('gone.example.test.', RRType.A);
  const n = off.up.count(EXAMPLE);
  assert.equal((await off.r.resolve('a.gone.example.test.', RRType.A)).rcode, Rcode.NXDOMAIN);
  assert.ok(off.up.count(EXAMPLE) > n, 'with the cut off the name is asked');
});

test('RFC 8767: stale data answers while a slow resolution is still running, which then refreshes the cache', async () => {
  const { up, r, clock } = setup({ staleClientTimeout: 20 });
  assert.equal((await r.resolve('www.example.test.', RRType.A)).ede, undefined);
  clock.advance(301_000); // the A RRset (TTL 300) has expired; the NS sets have not
  up.delayMs = 300;
  const stale = await r.resolve('www.example.test.', RRType.A);
  assert.equal(stale.rcode, Rcode.NOERROR);
  assert.equal(stale.ede?.infoCode, 3, 'EDE 3 Stale Answer');
  assert.equal(stale.answer[0]?.ttl, 30);
  assert.equal(r.stats.staleEarly, 1);
  // The resolution goes on in the background; wait (bounded) until it has refreshed the cache.
  for (let i = 0; i < 100 && !r.cache.get(Name.parse('www.example.test.'), RRType.A, RRClass.IN); i++) await new Promise((res) => setTimeout(res, 20));
  up.delayMs = 0;
  const fresh = await r.resolve('www.example.test.', RRType.A);
  assert.equal(fresh.ede, undefined);
  assert.equal(fresh.answer[0]?.ttl, 300);
});

test('RFC 8767: without stale data the client waits for the resolution; a fast one is not cut short', async () => {
  const { up, r } = setup({ staleClientTimeout: 20 });
  up.delayMs = 60;
  const a = await r.resolve('www.example.test.', RRType.A);
  assert.equal(a.ede, undefined);
  assert.equal(a.rcode, Rcode.NOERROR);
  assert.equal(r.stats.staleEarly, 0);
});

test('EDNS: a server that silently drops queries with OPT is asked without, and that is remembered', async () => {
  const { up, r } = setup();
  let dropped = 0;
  up.tamper = (s, q, a) => {
    if (s.address === EXAMPLE && q.edns) {
      dropped++;
      return undefined; // no answer at all, as some firewalls do
    }
    return a;
  };
  const a = await r.resolve('www.example.test.', RRType.A);
  assert.equal(a.rcode, Rcode.NOERROR, a.ede?.text);
  assert.equal(dropped, 1);
  assert.equal(r.selector.noEdns(EXAMPLE), true);
  assert.equal(r.selector.noEdns(TEST), false, 'only that server');
  const b = await r.resolve('mail.example.test.', RRType.A);
  assert.equal(b.rcode, Rcode.NOERROR);
  assert.equal(dropped, 1, 'the next query goes without OPT straight away');
});

test('EDNS: a timeout from a server known to answer EDNS is not blamed on EDNS', async () => {
  const { up, r } = setup();
  await r.resolve('www.example.test.', RRType.A);
  assert.equal(r.selector.ednsOk(EXAMPLE), true);
  const asked: boolean[] = [];
  // Every server stops answering (an outage, not an EDNS problem).
  up.tamper = (s, q) => {
    if (s.address === EXAMPLE) asked.push(q.edns !== undefined);
    return undefined;
  };
  const res = await r.resolve('mail.example.test.', RRType.A);
  assert.equal(res.rcode, Rcode.SERVFAIL);
  assert.deepEqual(asked, [true], 'one query, with OPT, no fallback');
  assert.equal(r.selector.noEdns(EXAMPLE), false);
});

test('config keys: prime-root, aggressive-nsec, nxdomain-cut, cache.stale-client-timeout', async () => {
  const { resolverOptionsFromConfig } = await import('../../src/resolver/config.js');
  const o = resolverOptionsFromConfig({ 'prime-root': false, 'aggressive-nsec': false, 'nxdomain-cut': false, cache: { 'stale-client-timeout': 0 } });
  assert.equal(o.primeRoot, false);
  assert.equal(o.aggressiveNsec, false);
  assert.equal(o.nxdomainCut, false);
  assert.equal(o.staleClientTimeout, 0);
  const d = resolverOptionsFromConfig({});
  assert.equal(d.primeRoot, undefined, 'defaults are left to the Resolver');
});
