// Reading dnsperf's output and computing latency percentiles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dnsperfArgs, parseDnsperf, parseVerboseLine, percentile } from '../../bench/dnsperf.js';

const SAMPLE = `Statistics:

  Queries sent:         259862
  Queries completed:    259860 (100.00%)
  Queries lost:         2 (0.00%)

  Response codes:       NOERROR 233784 (89.96%), NXDOMAIN 26076 (10.04%)
  Average packet size:  request 33, response 60
  Run time (s):         2.000186
  Queries per second:   129918.917541

  Average Latency (s):  0.000645 (min 0.000023, max 0.013681)
  Latency StdDev (s):   0.000560
`;

test('parseDnsperf reads the statistics block', () => {
  const r = parseDnsperf(SAMPLE);
  assert.equal(r.sent, 259862);
  assert.equal(r.completed, 259860);
  assert.equal(r.lost, 2);
  assert.equal(r.qps, 129918.917541);
  assert.equal(r.runSeconds, 2.000186);
  assert.ok(Math.abs(r.avgLatencyMs - 0.645) < 1e-9);
  assert.deepEqual(r.rcodes, { NOERROR: 233784, NXDOMAIN: 26076 });
});

test('parseDnsperf fails clearly when dnsperf printed no statistics', () => {
  assert.throws(() => parseDnsperf('Error: could not open file\n'), /Queries sent/);
});

test('parseVerboseLine takes the latency from -v lines only', () => {
  assert.equal(parseVerboseLine('> NOERROR h4e5.bench.test. A 0.000500'), 0.0005);
  assert.equal(parseVerboseLine('> NXDOMAIN WWw.h1ax.BeNch.tESt. AAAA 0.012000'), 0.012);
  assert.equal(parseVerboseLine('[Status] Sending queries'), undefined);
  assert.equal(parseVerboseLine('> T h1.bench.test. A'), undefined);
});

test('percentile is the nearest-rank percentile of a sorted list', () => {
  const xs = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile(xs, 99), 99);
  assert.equal(percentile(xs, 100), 100);
  assert.equal(percentile(xs, 0), 1);
  assert.ok(Number.isNaN(percentile([], 50)));
  let runs = 0;
  fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 1, max: 100 }), (arr, p) => {
    runs++;
    const sorted = [...arr].sort((a, b) => a - b);
    const v = percentile(sorted, p);
    // At least p% of the values are <= v, and fewer than p% are < v.
    assert.ok(sorted.filter((x) => x <= v).length >= (p / 100) * sorted.length);
    assert.ok(sorted.filter((x) => x < v).length < (p / 100) * sorted.length);
  }));
  assert.ok(runs >= 100);
});

test('every dnsperf run is bounded in time, and options map to flags', () => {
  const a = dnsperfArgs({ server: '127.0.0.60', port: 16101, file: 'q.txt', seconds: 3, rate: 50000, tcp: true, latencies: true, maxRuns: 1 });
  assert.deepEqual(a.slice(0, 10), ['-s', '127.0.0.60', '-p', '16101', '-d', 'q.txt', '-l', '3', '-t', '1']);
  for (const flag of ['-Q', '-m', '-v', '-n', '-c', '-q']) assert.ok(a.includes(flag), flag);
  assert.equal(a[a.indexOf('-Q') + 1], '50000');
  assert.ok(!dnsperfArgs({ server: 'x', port: 1, file: 'f', seconds: 1 }).includes('-v'));
});
