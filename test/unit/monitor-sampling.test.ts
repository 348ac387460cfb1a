// The detector's load shedding and the monitor's scrape-time metrics: above `sampleAbove`
// queries a second only a share of queries is scored, with weights, and a tunnel hidden in
// heavy traffic is still found; below it every query is scored. Metrics counted in plain
// numbers come out in Prometheus text with the same values as the live stats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Detector } from '../../src/monitor/detector.js';
import { Monitor } from '../../src/monitor/monitor.js';
import { generateTraffic } from '../../src/monitor/traffic/generator.js';
import type { QueryEvent } from '../../src/monitor/types.js';

const ev = (time: number, client: string, qname: string, qtype: number, rcode = 0): QueryEvent => ({
  time, client, transport: 'udp', qname, qtype, rcode, bytesIn: 60, bytesOut: 120, latencyMs: 0.2,
  flags: { tc: false, rateLimited: false, dropped: false, cached: false },
});

test('load shedding: at 50k q/s with sampleAbove 5000 a tenth is scored after the first second, and a tunnel inside it is still found', () => {
  const tunnel = generateTraffic({ seed: 21, normalClients: 1, kinds: ['iodine'], episodesPerKind: 1 });
  const tunnelEvents = tunnel.events.filter((e) => e.episode === 0);
  const det = new Detector({ detection: { actions: { tunneling: 'block' } }, sampleAbove: 5000, clock: () => 0 });
  const qps = 50_000;
  const t0 = 1_000_000;
  let n = 0;
  let ti = 0;
  // 20 s of traffic: popular names from 500 clients, and the tunnel at 1 query in 500 (100 q/s).
  for (; n < qps * 20; n++) {
    const time = t0 + (n * 1000) / qps;
    if (n % 500 === 0 && ti < tunnelEvents.length) {
      const e = tunnelEvents[ti++]!;
      det.observe({ ...e, time });
    } else {
      det.observe(ev(time, `10.0.${(n >> 8) & 1}.${n & 255}`, `www${n % 40}.site${n % 300}.example`, n % 3 === 0 ? 28 : 1));
    }
  }
  const share = det.sampling.scored / det.sampling.seen;
  console.log(`seen ${det.sampling.seen}, scored ${det.sampling.scored} (${(share * 100).toFixed(1)} %), tunnel queries ${ti}`);
  assert.equal(det.sampling.seen, n);
  // The first second is scored in full (no rate known yet), then 5000 of every 50000.
  const expected = (qps + 19 * 5000) / (qps * 20);
  assert.ok(Math.abs(share - expected) < 0.01, `share ${share} near ${expected}`);
  const alert = det.alerts().find((a) => a.type === 'tunneling');
  assert.ok(alert, 'tunnel found while shedding load');
  assert.equal(alert.domain, tunnel.episodes[0]!.domain);
  assert.ok(!det.alerts().some((a) => a.type !== 'tunneling'), `no false alert: ${JSON.stringify(det.alerts().map((a) => a.type))}`);
  // Still scored above the threshold while shedding load (after the first, unsampled second).
  assert.ok(alert.last >= t0 + 5000, `raised again at ${alert.last - t0} ms`);
  assert.ok(alert.count > 1);
});

test('below sampleAbove every query is scored', () => {
  const det = new Detector({ sampleAbove: 5000 });
  for (let i = 0; i < 20_000; i++) det.observe(ev(1_000_000 + i / 4, '10.0.0.1', `a${i % 7}.example.com`, 1));
  assert.equal(det.sampling.seen, 20_000);
  assert.equal(det.sampling.scored, 20_000);
});

test('scrape-time metrics match the live stats (queries by type, responses by rcode, latency, flags, cache)', async () => {
  const monitor = new Monitor({ logger: pino({ level: 'silent' }) });
  const t = Date.now();
  const flags = { tc: false, rateLimited: false, dropped: false, cached: false };
  monitor.observe({ ...ev(t, '127.0.0.1', 'www.example.test.', 1), zone: 'example.test.', latencyMs: 0.05 });
  monitor.observe({ ...ev(t, '127.0.0.1', 'x.example.test.', 65280, 3), zone: 'example.test.', latencyMs: 2, transport: 'tcp' });
  monitor.observe({ ...ev(t, '127.0.0.2', 'www.ext.', 1), recursive: true, flags: { ...flags, cached: true } });
  monitor.observe({ ...ev(t, '127.0.0.2', 'new.ext.', 1), recursive: true, flags: { ...flags, tc: true } });
  monitor.observe({ ...ev(t, '127.0.0.3', 'www.ext.', 1), flags: { ...flags, dropped: true, rateLimited: true } });
  const s = monitor.stats();
  assert.deepEqual(s.rcodes, { NOERROR: 3, NXDOMAIN: 1, DROPPED: 1 });
  assert.deepEqual(s.transports, { udp: 4, tcp: 1 });
  assert.deepEqual(s.types, { A: 4, OTHER: 1 });
  const text = await monitor.metrics.metrics();
  assert.match(text, /^portcullis_queries_total\{transport="udp",type="A",view="",zone="example.test."\} 1$/m);
  assert.match(text, /^portcullis_queries_total\{transport="tcp",type="OTHER",view="",zone="example.test."\} 1$/m);
  assert.match(text, /^portcullis_queries_total\{transport="udp",type="A",view="",zone=""\} 3$/m);
  assert.match(text, /^portcullis_responses_total\{transport="tcp",rcode="NXDOMAIN",view="",zone="example.test."\} 1$/m);
  assert.match(text, /^portcullis_responses_total\{transport="udp",rcode="NOERROR",view="",zone=""\} 2$/m, 'the dropped query sent no response');
  assert.match(text, /^portcullis_query_duration_seconds_bucket\{le="0.0001",transport="udp"\} 1$/m);
  assert.match(text, /^portcullis_query_duration_seconds_bucket\{le="0.00025",transport="udp"\} 3$/m);
  assert.match(text, /^portcullis_query_duration_seconds_bucket\{le="\+Inf",transport="udp"\} 3$/m);
  assert.match(text, /^portcullis_query_duration_seconds_bucket\{le="0.001",transport="tcp"\} 0$/m);
  assert.match(text, /^portcullis_query_duration_seconds_bucket\{le="0.0025",transport="tcp"\} 1$/m);
  assert.match(text, /^portcullis_query_duration_seconds_count\{transport="tcp"\} 1$/m);
  assert.match(text, /^portcullis_responses_truncated_total\{transport="udp"\} 1$/m);
  assert.match(text, /^portcullis_responses_dropped_total\{transport="udp"\} 1$/m);
  assert.match(text, /^portcullis_rate_limit_limited_total\{transport="udp"\} 1$/m);
  assert.match(text, /^portcullis_cache_hits_total 1$/m);
  assert.match(text, /^portcullis_cache_misses_total 1$/m);
  assert.match(text, /^portcullis_cache_hit_ratio 0.5$/m);
  assert.match(text, /^# TYPE portcullis_query_duration_seconds histogram$/m);
  // A second scrape gives the same numbers (collect replaces, never adds twice).
  const again = await monitor.metrics.metrics();
  assert.match(again, /^portcullis_queries_total\{transport="udp",type="A",view="",zone=""\} 3$/m);
});
