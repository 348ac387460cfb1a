// Unit tests of the monitor's parts: name features, allow list, privacy, windows, config,
// and the Monitor (metrics, stats, query log, decide).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Name, EdeCode, Rcode } from '../../src/wire/index.js';
import {
  AllowList, Monitor, RecentKeys, Seen, SlidingCounters, clientMapper, detectionSchema, detectionSettings,
  nameFeatures, shannonEntropy, truncateAddress, type QueryEvent,
} from '../../src/monitor/index.js';

const flags = { tc: false, rateLimited: false, dropped: false, cached: false };
function ev(time: number, qname: string, extra: Partial<QueryEvent> = {}): QueryEvent {
  return { time, client: '192.0.2.7', transport: 'udp', qname, qtype: 1, rcode: 0, bytesIn: 40, bytesOut: 80, latencyMs: 2, flags, ...extra };
}
function capture() {
  const lines: any[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l)); cb(); } });
  return { lines, logger: pino({ base: undefined }, stream) };
}

test('registered domain, subdomain part and entropy', () => {
  const cases: [string, string | undefined, string, string][] = [
    ['www.example.com.', undefined, 'example.com', 'www'],
    ['a.b.example.co.uk', undefined, 'example.co.uk', 'a.b'],
    ['example.com', undefined, 'example.com', ''],
    ['com.', undefined, 'com', ''],
    ['.', undefined, '.', ''],
    ['x.y.tunnel.corp.example.', 'corp.example.', 'corp.example', 'x.y.tunnel'],
    ['4.3.2.1.in-addr.arpa', undefined, '1.in-addr.arpa', '4.3.2'],
    // The answering zone's domain is kept from one name to the next: switching zones, case and
    // the apex itself must each get their own.
    ['A.B.Corp.Example.', 'Corp.Example.', 'corp.example', 'a.b'],
    ['x.other.test.', 'other.test.', 'other.test', 'x'],
    ['corp.example.', 'corp.example.', 'corp.example', ''],
    ['www.example.com.', undefined, 'example.com', 'www'],
    ['deep.x.other.test.', 'other.test.', 'other.test', 'deep.x'],
  ];
  for (const [q, zone, domain, sub] of cases) {
    const f = nameFeatures(q, zone);
    assert.equal(f.domain, domain, q);
    assert.equal(f.sub, sub, q);
  }
  const n = nameFeatures(Name.parse('AbC.Example.COM.'));
  assert.equal(n.domain, 'example.com');
  assert.equal(n.sub, 'abc');
  assert.equal(n.maxLabelLength, 3);
  assert.equal(shannonEntropy(['aaaa']), 0);
  assert.equal(shannonEntropy(['abcd']), 2);
  assert.equal(shannonEntropy(['ab', 'ab']), 1);
  assert.ok(nameFeatures('f3a9c2e1b7d04e6f8a2b.t.x.com').entropy > 3.5);
});

test('allow list: domains by suffix, addresses by prefix, bad entries rejected', () => {
  const a = new AllowList(['backup.example.com', '192.0.2.0/24', '2001:db8::/32', '198.51.100.9']);
  assert.ok(a.allowsName('backup.example.com'));
  assert.ok(a.allowsName('x.y.backup.example.com'));
  assert.ok(!a.allowsName('example.com'));
  assert.ok(!a.allowsName('notbackup.example.com'));
  assert.ok(a.allowsClient('192.0.2.200'));
  assert.ok(!a.allowsClient('192.0.3.1'));
  assert.ok(a.allowsClient('2001:db8:1::5'));
  assert.ok(!a.allowsClient('2001:db9::5'));
  assert.ok(a.allowsClient('198.51.100.9') && !a.allowsClient('198.51.100.10'));
  assert.throws(() => new AllowList(['10.0.0.0/33']), /prefix length/);
  assert.throws(() => new AllowList(['foo/8']), /neither/);
  assert.throws(() => new AllowList(['a..b']), /bad domain/);
});

test('client privacy: truncate and keyed hash', () => {
  assert.equal(truncateAddress('192.0.2.77'), '192.0.2.0');
  assert.equal(truncateAddress('2001:db8:1:2:3::9'), '2001:db8:1::');
  const h1 = clientMapper('hash', 'key-one-1234');
  const h2 = clientMapper('hash', 'key-two-1234');
  assert.equal(h1('192.0.2.1'), h1('192.0.2.1'));
  assert.match(h1('192.0.2.1'), /^[0-9a-f]{16}$/);
  assert.notEqual(h1('192.0.2.1'), h1('192.0.2.2'));
  assert.notEqual(h1('192.0.2.1'), h2('192.0.2.1'));
  assert.equal(clientMapper('full')('192.0.2.1'), '192.0.2.1');
});

test('sliding counters forget old buckets; recent keys tell window from before', () => {
  const w = new SlidingCounters(2, 6, 10_000);
  const out = new Float64Array(2);
  w.add(w.slot(0), 0, 5);
  w.add(w.slot(30_000), 0, 1);
  w.add(w.slot(30_000), 1, 7);
  assert.deepEqual([...w.sum(30_000, out)], [6, 7]);
  assert.deepEqual([...w.sum(59_999, out)], [6, 7]);
  assert.deepEqual([...w.sum(60_000, out)], [1, 7], 'the first bucket left the window');
  w.add(w.slot(120_000), 0, 2); // reuses slot 0 and resets it
  assert.deepEqual([...w.sum(120_000, out)], [2, 0]);
  const k = new RecentKeys(2);
  assert.equal(k.see('a', 0, 1000), Seen.Never);
  assert.equal(k.see('a', 500, 1000), Seen.InWindow);
  assert.equal(k.see('a', 2000, 1000), Seen.BeforeWindow);
  k.see('b', 2000, 1000);
  k.see('c', 2000, 1000); // over the cap: "a" goes
  assert.equal(k.size, 2);
  assert.equal(k.see('a', 2100, 1000), Seen.Never);
  // The ring goes on in first-seen order: "a" came back in place of "b", so "b" is gone and "c" stays.
  assert.equal(k.see('c', 2200, 1000), Seen.InWindow);
  assert.equal(k.see('b', 2300, 1000), Seen.Never, 'b was forgotten when a came back');
  assert.equal(k.see('c', 2400, 1000), Seen.Never, 'then c, the oldest left');
  assert.equal(k.size, 2);
  assert.equal(k.countSince(2350), 1);
  assert.equal(k.countSince(0), 2);
});

test('RecentKeys answers as a plain map-and-ring model does, over long random streams (eviction moves entries in its index)', () => {
  /** The reference: a Map from key to slot and a ring of first-seen order, as RecentKeys behaves. */
  class Model {
    slots = new Map<string, number>();
    keys: string[] = [];
    times: number[] = [];
    oldest = 0;
    constructor(readonly cap: number) {}
    see(key: string, time: number, windowMs: number): number {
      const slot = this.slots.get(key);
      if (slot !== undefined) {
        const prev = this.times[slot]!;
        this.times[slot] = time;
        return time - prev < windowMs ? Seen.InWindow : Seen.BeforeWindow;
      }
      if (this.keys.length < this.cap) {
        this.slots.set(key, this.keys.length);
        this.keys.push(key);
        this.times.push(time);
      } else {
        const at = this.oldest;
        this.slots.delete(this.keys[at]!);
        this.keys[at] = key;
        this.times[at] = time;
        this.slots.set(key, at);
        this.oldest = at + 1 === this.cap ? 0 : at + 1;
      }
      return Seen.Never;
    }
  }
  let seed = 12345;
  const rnd = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  let steps = 0;
  for (const cap of [1, 2, 3, 7, 16, 100, 256, 1024]) {
    for (const pool of [3, 40, 700, 20_000]) {
      const ours = new RecentKeys(cap);
      const model = new Model(cap);
      // Keys of several lengths, some differing only in case or one character.
      const keys = Array.from({ length: pool }, (_, i) => (i % 3 === 0 ? `h${i}` : i % 3 === 1 ? `H${i}.x-${i % 7}` : `${'ab'.repeat(i % 5)}${i}`));
      let t = 0;
      for (let i = 0; i < 25_000; i++) {
        t += Math.floor(rnd() * 40);
        // Mostly a small hot set, sometimes anything: both hits and evictions happen.
        const key = keys[rnd() < 0.7 ? Math.floor(rnd() * Math.min(pool, cap + 2)) : Math.floor(rnd() * pool)]!;
        const want = model.see(key, t, 1000);
        const got = ours.see(key, t, 1000);
        if (got !== want) assert.fail(`cap ${cap}, ${pool} keys, step ${i}: see(${key}) gave ${got}, the model ${want}`);
        steps++;
      }
      assert.equal(ours.size, model.keys.length);
      assert.equal(ours.countSince(t - 5000), model.times.filter((x) => x >= t - 5000).length);
    }
  }
  assert.equal(steps, 8 * 4 * 25_000);
});

test('detection config: defaults, overrides and errors', () => {
  const s = detectionSettings({ window: 30, thresholds: { beaconing: 0.8 }, actions: { tunneling: 'block' } });
  assert.equal(s.windowMs, 30_000);
  assert.equal(s.thresholds.beaconing, 0.8);
  assert.equal(s.thresholds.tunneling, 0.6);
  assert.equal(s.actions.tunneling, 'block');
  assert.equal(s.actions.exfiltration, 'alert');
  assert.ok(!detectionSchema.safeParse({ actions: { tunneling: 'nuke' } }).success);
  assert.ok(!detectionSchema.safeParse({ thresholds: { tunneling: 2 } }).success);
  assert.ok(!detectionSchema.safeParse({ bogus: 1 }).success, 'unknown keys are errors');
});

test('Monitor: above 10,000 queries a second the top lists count a stride of queries, weighted; the totals stay exact', () => {
  let now = 2_000_000;
  const m = new Monitor({ logger: pino({ level: 'silent' }), clock: () => now, detection: { enabled: false } });
  // 40,000 queries a second for three seconds (all in one minute), from three clients 3:2:1,
  // for names in the ratio 1:1:2.
  const clients = ['192.0.2.1', '192.0.2.1', '192.0.2.1', '192.0.2.2', '192.0.2.2', '192.0.2.3'];
  const names = ['a.example.', 'b.example.', 'c.example.', 'c.example.'];
  let n = 0;
  const t0 = 60_000 * 40;
  for (let sec = 0; sec < 3; sec++) {
    for (let i = 0; i < 40_000; i++) {
      m.observe(ev(t0 + sec * 1000 + (i % 1000), names[n % 4]!, { client: clients[n % 6]! }));
      n++;
    }
  }
  now = t0 + 3500;
  const s = m.stats();
  assert.equal(s.queries, n, 'every query is counted in the totals');
  const by = new Map(s.topClients.map((c) => [c.client, c.queries]));
  const near = (got: number | undefined, want: number) => assert.ok(got !== undefined && Math.abs(got - want) <= want * 0.05, `${got} ≈ ${want}`);
  near(by.get('192.0.2.1'), n / 2);
  near(by.get('192.0.2.2'), n / 3);
  near(by.get('192.0.2.3'), n / 6);
  assert.equal(s.topDomains[0]!.domain, 'c.example.');
  near(s.topDomains[0]!.queries, n / 2);
});

test('Monitor: metrics, stats, top lists, cache ratio', async () => {
  let now = 1_000_000;
  const m = new Monitor({ logger: pino({ level: 'silent' }), clock: () => now });
  m.setCacheSize(() => 17);
  for (let i = 0; i < 30; i++) m.observe(ev(now - 5000 + i * 100, 'www.example.com.', { flags: { ...flags, cached: i % 3 !== 0 } }));
  m.observe(ev(now, 'nx.example.com.', { rcode: Rcode.NXDOMAIN, transport: 'tcp', client: '192.0.2.8' }));
  m.observe(ev(now, 'big.example.com.', { flags: { ...flags, tc: true } }));
  m.observe(ev(now, 'x.example.com.', { flags: { ...flags, dropped: true, rateLimited: true } }));
  m.upstream('ok');
  m.upstream('timeout');
  m.tcpConnection(1);
  now += 1000;
  const s = m.stats();
  assert.equal(s.queries, 33);
  assert.equal(s.rcodes.NOERROR, 31);
  assert.equal(s.rcodes.NXDOMAIN, 1);
  assert.equal(s.rcodes.DROPPED, 1);
  assert.equal(s.truncated, 1);
  assert.equal(s.rateLimited, 1);
  assert.equal(s.cache.hits, 20);
  assert.equal(s.cache.misses, 12, '10 uncached of the 30, plus the NXDOMAIN and the TC answer');
  assert.equal(s.cache.entries, 17);
  assert.equal(s.qpsSeries.reduce((a, b) => a + b, 0), 33);
  assert.equal(s.qps, 3.3);
  assert.equal(s.topClients[0]!.client, '192.0.2.7');
  assert.equal(s.topDomains[0]!.domain, 'www.example.com.');
  const text = await m.metrics.metrics();
  for (const name of ['portcullis_queries_total', 'portcullis_responses_total', 'portcullis_query_duration_seconds_bucket', 'portcullis_cache_hit_ratio', 'portcullis_cache_entries 17', 'portcullis_upstream_failures_total{reason="timeout"} 1', 'portcullis_tcp_connections 1', 'portcullis_responses_truncated_total{transport="udp"} 1', 'portcullis_rate_limit_limited_total{transport="udp"} 1', 'portcullis_detection_alerts_active']) {
    assert.ok(text.includes(name), `metrics include ${name}`);
  }
  assert.match(text, /portcullis_cache_hit_ratio 0\.62/);
});

test('query log: on, sampled (exact share) and off; privacy applied', () => {
  const on = capture();
  const m1 = new Monitor({ logger: on.logger, queryLog: { mode: 'on' }, monitor: { 'client-privacy': 'truncate' } });
  m1.observe(ev(1, 'www.example.com.'));
  const q = on.lines.filter((l) => l.msg === 'query');
  assert.equal(q.length, 1);
  assert.equal(q[0].client, '192.0.2.0');
  assert.equal(q[0].qname, 'www.example.com.');
  assert.equal(q[0].qtype, 'A');
  assert.equal(q[0].rcode, 'NOERROR');
  const sampled = capture();
  const m2 = new Monitor({ logger: sampled.logger, queryLog: { mode: 'sampled', 'sample-rate': 0.1 } });
  for (let i = 0; i < 1000; i++) m2.observe(ev(i, `n${i}.example.com.`));
  assert.equal(sampled.lines.filter((l) => l.msg === 'query').length, 100);
  const off = capture();
  const m3 = new Monitor({ logger: off.logger });
  for (let i = 0; i < 50; i++) m3.observe(ev(i, 'www.example.com.'));
  assert.equal(off.lines.filter((l) => l.msg === 'query').length, 0);
  const hashed = capture();
  const m4 = new Monitor({ logger: hashed.logger, queryLog: { mode: 'on', 'client-privacy': 'hash' }, monitor: { 'hash-key': 'a-fixed-key' } });
  m4.observe(ev(1, 'www.example.com.'));
  assert.match(hashed.lines[0].client, /^[0-9a-f]{16}$/);
});

// A dnscat2-like session: hex names, TXT, one a second.
function tunnel(m: Monitor, client: string, domain: string, from: number, n: number): number {
  let t = from;
  for (let i = 0; i < n; i++, t += 1000) {
    const hex = Array.from({ length: 60 }, (_, j) => '0123456789abcdef'[(i * 7 + j * 13 + (j * j) % 11) % 16]).join('');
    m.observe(ev(t, `${hex.slice(0, 30)}.${hex.slice(30)}.${domain}`, { client, qtype: 16, bytesOut: 200 }));
  }
  return t;
}

test('decide: block with an Extended DNS Error after a tunnel, scoped to the client and domain', () => {
  let now = 5_000_000;
  const logs = capture();
  const m = new Monitor({ logger: logs.logger, clock: () => now, detection: { actions: { tunneling: 'block' }, 'action-duration': 60 } });
  assert.equal(m.decide('10.9.9.9', 'x.evil-tunnel.com.'), undefined);
  now = tunnel(m, '10.9.9.9', 'evil-tunnel.com', now, 60);
  const alerts = m.alerts();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.type, 'tunneling');
  assert.equal(a.domain, 'evil-tunnel.com');
  assert.equal(a.client, '10.9.9.9');
  assert.ok(a.score >= 0.6 && a.score <= 1);
  assert.ok(a.first <= a.last);
  assert.equal(a.action, 'block');
  assert.equal(typeof a.evidence.entropyBitsPerChar, 'number');
  assert.ok(logs.lines.some((l) => l.level === 40 && l.alert?.type === 'tunneling'), 'alert logged at warn');
  const d = m.decide('10.9.9.9', 'anything.evil-tunnel.com.');
  assert.ok(d);
  assert.equal(d.action, 'block');
  assert.equal(d.rcode, Rcode.REFUSED);
  assert.equal(d.ede.infoCode, EdeCode.BLOCKED);
  assert.match(d.ede.text, /tunneling detected for evil-tunnel\.com/);
  assert.equal(m.decide('10.9.9.10', 'anything.evil-tunnel.com.'), undefined, 'other clients unaffected');
  assert.equal(m.decide('10.9.9.9', 'www.example.com.'), undefined, 'other domains unaffected');
  now += 61_000;
  assert.equal(m.decide('10.9.9.9', 'anything.evil-tunnel.com.'), undefined, 'the block expires');
});

test('throttle lets throttle-rate queries a second through; the allow list silences detection', () => {
  let now = 9_000_000;
  const m = new Monitor({ logger: pino({ level: 'silent' }), clock: () => now, detection: { actions: { tunneling: 'throttle' }, 'throttle-rate': 2 } });
  now = tunnel(m, '10.9.9.9', 'evil-tunnel.com', now, 60);
  let passed = 0;
  for (let i = 0; i < 40; i++, now += 100) if (!m.decide('10.9.9.9', 'a.evil-tunnel.com.')) passed++;
  assert.ok(passed >= 7 && passed <= 10, `about 2/s over 4 s passed: ${passed}`);
  const d = m.decide('10.9.9.9', 'a.evil-tunnel.com.') ?? m.decide('10.9.9.9', 'a.evil-tunnel.com.') ?? m.decide('10.9.9.9', 'a.evil-tunnel.com.');
  assert.equal(d?.action, 'throttle');
  assert.equal(d?.ede.infoCode, EdeCode.OTHER);

  const allowed = new Monitor({ logger: pino({ level: 'silent' }), clock: () => now, detection: { allow: ['evil-tunnel.com', '10.8.0.0/16'], actions: { tunneling: 'block' } } });
  tunnel(allowed, '10.9.9.9', 'evil-tunnel.com', now, 60);
  tunnel(allowed, '10.8.1.1', 'other-tunnel.com', now, 60);
  assert.deepEqual(allowed.alerts(), []);
  tunnel(allowed, '10.9.9.9', 'other-tunnel.com', now, 60);
  assert.equal(allowed.alerts().length, 1, 'the same traffic elsewhere is still found');
});

test('tracked state stays bounded under a flood of new sources and names', (t) => {
  const m = new Monitor({ logger: pino({ level: 'silent' }), detection: { 'max-tracked': 1000 } });
  let n = 0;
  for (let i = 0; i < 20_000; i++, n++) m.observe(ev(1_000_000 + i, `r${i}.d${i % 5000}.com.`, { client: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }));
  const tr = m.detector.tracked;
  t.diagnostic(`after ${n} queries from ${n} sources: ${JSON.stringify(tr)}`);
  assert.ok(tr.pairs <= 1000 && tr.domains <= 1000 && tr.clients <= 1000, JSON.stringify(tr));
});
