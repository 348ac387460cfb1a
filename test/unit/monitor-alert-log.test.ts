import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Monitor } from '../../src/monitor/monitor.js';

// Thousands of (client, domain) pairs alerting at once must not turn into thousands of log
// lines: the alert log is capped per second and says how many lines it left out, while the
// metric counts every alert.
test('alert log lines are capped per second; the next line counts the ones left out', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  let now = 1_700_000_000_000;
  const m = new Monitor({ logger, clock: () => now });
  // Every pair asks its own domain a fresh name every 2 s (beaconing with novel names): 400
  // pairs in a first wave, then 20 more pairs whose alerts come seconds later.
  const wave = (from: number, count: number): void => {
    for (let round = 0; round < 40; round++) {
      for (let p = from; p < from + count; p++) {
        m.observe({
          time: now, client: `10.1.${p >> 8}.${p & 255}`, transport: 'udp', qname: `r${round}x${p}q${(round * 7919 + p * 104729) % 1_000_003}.victim${p}.example`,
          qtype: 1, rcode: 3, bytesIn: 40, bytesOut: 90, latencyMs: 1, flags: { tc: false, rateLimited: false, dropped: false, cached: false },
        });
      }
      now += 2000;
    }
  };
  wave(0, 400);
  wave(400, 20);
  const alertLines = lines.filter((l) => l.component === 'detection');
  const alerts = m.alerts().length;
  const metricText = await m.metrics.getSingleMetricAsString('portcullis_detection_alerts_total');
  const counted = [...metricText.matchAll(/\} (\d+)$/gm)].reduce((n, x) => n + Number(x[1]), 0);
  console.log(`${counted} alerts counted, ${alerts} in the table, ${alertLines.length} log lines`);
  assert.ok(counted > 40, `the run raises many alerts (${counted})`);
  assert.ok(alertLines.length < counted, 'fewer lines than alerts');
  assert.ok(alertLines.some((l) => typeof l.suppressed === 'number' && (l.suppressed as number) > 0), 'a later line says how many were left out');
});
