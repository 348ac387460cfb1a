// Cache: RFC 2181 ranking, TTL caps, negative entries, LRU by bytes, stale window.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cache, Rank } from '../../src/resolver/cache.js';
import { ManualClock } from '../../src/resolver/types.js';
import { Name, recordFromText, RRClass, RRType } from '../../src/wire/index.js';

const rr = (t: string) => recordFromText(t);
const name = (t: string) => Name.parse(t);

test('RFC 2181 5.4.1: glue does not replace an authoritative answer, the reverse does', () => {
  const c = new Cache(new ManualClock());
  assert.ok(c.putRRset([rr('ns.example. 300 IN A 192.0.2.1')], Rank.ANSWER_AA));
  assert.equal(c.putRRset([rr('ns.example. 300 IN A 6.6.6.6')], Rank.ADDITIONAL), false);
  assert.equal((c.get(name('ns.example.'), RRType.A, RRClass.IN)!.rrs[0]!.data as { address: string }).address, '192.0.2.1');
  const d = new Cache(new ManualClock());
  d.putRRset([rr('ns.example. 300 IN A 6.6.6.6')], Rank.ADDITIONAL);
  assert.ok(d.putRRset([rr('ns.example. 300 IN A 192.0.2.1')], Rank.ANSWER_AA));
});

test('TTL caps: max and min', () => {
  const clock = new ManualClock();
  const c = new Cache(clock, { maxTtl: 100, minTtl: 20 });
  c.putRRset([rr('a.example. 5000 IN A 192.0.2.1')], Rank.ANSWER_AA);
  c.putRRset([rr('b.example. 1 IN A 192.0.2.2')], Rank.ANSWER_AA);
  assert.equal(c.get(name('a.example.'), RRType.A, 1)!.rrs[0]!.ttl, 100);
  assert.equal(c.get(name('b.example.'), RRType.A, 1)!.rrs[0]!.ttl, 20);
  clock.advance(15_000);
  assert.equal(c.get(name('b.example.'), RRType.A, 1)!.rrs[0]!.ttl, 5);
});

test('RFC 2308: negative TTL from the SOA, no caching without one; a positive answer clears NXDOMAIN', () => {
  const clock = new ManualClock();
  const c = new Cache(clock, { maxNegativeTtl: 900 });
  const soa = [rr('example. 3600 IN SOA ns.example. h.example. 1 2 3 4 1200')];
  assert.ok(c.putNegative('nxdomain', name('x.example.'), 0, 1, soa, Rank.AUTHORITY_AA));
  assert.equal(c.getNxdomain(name('x.example.'), 1)!.soa[0]!.ttl, 900);
  assert.equal(c.putNegative('nodata', name('y.example.'), RRType.A, 1, [], Rank.AUTHORITY_AA), false);
  c.putRRset([rr('x.example. 60 IN A 192.0.2.9')], Rank.ANSWER_AA);
  assert.equal(c.getNxdomain(name('x.example.'), 1), undefined);
});

test('LRU eviction by bytes keeps recently used entries', () => {
  const c = new Cache(new ManualClock(), { maxBytes: 2000 });
  let inserted = 0;
  for (let i = 0; i < 50; i++) {
    c.putRRset([rr(`n${i}.example. 300 IN A 192.0.2.${i}`)], Rank.ANSWER_AA);
    inserted++;
    c.get(name('n0.example.'), RRType.A, 1); // keep n0 hot
  }
  assert.ok(c.byteSize <= 2000);
  assert.ok(c.stats.evictions > 0 && c.size < inserted);
  assert.ok(c.get(name('n0.example.'), RRType.A, 1), 'the hot entry survived');
  assert.equal(c.get(name('n1.example.'), RRType.A, 1), undefined, 'a cold early entry was evicted');
});

test('stale window: expired data is hidden unless asked for stale, and dropped after the window', () => {
  const clock = new ManualClock();
  const c = new Cache(clock, { staleKeep: 100, staleTtl: 30 });
  c.putRRset([rr('s.example. 10 IN A 192.0.2.1')], Rank.ANSWER_AA);
  clock.advance(11_000);
  assert.equal(c.get(name('s.example.'), RRType.A, 1), undefined);
  const st = c.get(name('s.example.'), RRType.A, 1, true)!;
  assert.ok(st.stale);
  assert.equal(st.rrs[0]!.ttl, 30);
  clock.advance(100_000);
  assert.equal(c.get(name('s.example.'), RRType.A, 1, true), undefined);
});

test('flush removes a subtree', () => {
  const c = new Cache(new ManualClock());
  c.putRRset([rr('a.x.example. 300 IN A 192.0.2.1')], Rank.ANSWER_AA);
  c.putRRset([rr('b.y.example. 300 IN A 192.0.2.2')], Rank.ANSWER_AA);
  assert.equal(c.flush(name('x.example.')), 1);
  assert.ok(c.get(name('b.y.example.'), RRType.A, 1));
});
