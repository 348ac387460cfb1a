// Measures the detector on seeded, labelled traffic (src/monitor/traffic/generator.ts) replayed
// in virtual time: fails below 95% detection or above 0.5% false positives (docs/monitoring.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateTraffic, type EpisodeKind } from '../../src/monitor/traffic/generator.js';
import { evaluate } from '../../src/monitor/traffic/evaluate.js';

for (const seed of [1, 7]) {
  test(`detection rate and false positives on mixed traffic (seed ${seed})`, (t) => {
    const traffic = generateTraffic({ seed });
    const ev = evaluate(traffic);
    t.diagnostic(`events ${ev.events} (normal ${ev.normalEvents}), episodes ${ev.episodes}`);
    for (const [kind, k] of Object.entries(ev.byKind)) {
      t.diagnostic(`${kind}: ${k.detected}/${k.episodes} detected, median ${k.medianSecondsToDetect}s after start`);
    }
    t.diagnostic(`detection rate ${(ev.detectionRate * 100).toFixed(1)}%`);
    t.diagnostic(`false positives: ${ev.falsePositivePairs}/${ev.normalPairs} normal (client, domain) pairs = ${(ev.falsePositiveRate * 100).toFixed(3)}%; ${ev.falsePositiveClients} normal clients named`);
    t.diagnostic(`with actions on: normal queries refused ${ev.normalRefused}/${ev.normalEvents} = ${(ev.normalRefusedRate * 100).toFixed(3)}%; attack queries refused ${ev.attackRefused}/${ev.attackEvents}`);
    if (ev.missed.length) t.diagnostic(`missed: ${JSON.stringify(ev.missed)}`);
    if (ev.falseAlerts.length) t.diagnostic(`false alerts: ${JSON.stringify(ev.falseAlerts.slice(0, 10))}`);
    assert.ok(ev.episodes >= 48, 'every attack kind is represented');
    assert.ok(ev.normalPairs > 5000, 'enough normal traffic to measure 0.5%');
    assert.ok(ev.detectionRate >= 0.95, `detection rate ${ev.detectionRate} below 95%`);
    assert.ok(ev.falsePositiveRate <= 0.005, `false-positive rate ${ev.falsePositiveRate} above 0.5%`);
    assert.ok(ev.normalRefusedRate <= 0.005, `normal queries refused ${ev.normalRefusedRate} above 0.5%`);
  });
}

test('the generator is deterministic for a seed and differs between seeds', () => {
  const a = generateTraffic({ seed: 11, durationMs: 5 * 60_000, normalClients: 10, episodesPerKind: 1 });
  const b = generateTraffic({ seed: 11, durationMs: 5 * 60_000, normalClients: 10, episodesPerKind: 1 });
  const c = generateTraffic({ seed: 12, durationMs: 5 * 60_000, normalClients: 10, episodesPerKind: 1 });
  assert.equal(a.events.length, b.events.length);
  assert.deepEqual(a.events.slice(0, 50), b.events.slice(0, 50));
  assert.notDeepEqual(a.events.slice(0, 50).map((e) => e.qname), c.events.slice(0, 50).map((e) => e.qname));
  for (let i = 1; i < a.events.length; i++) assert.ok(a.events[i]!.time >= a.events[i - 1]!.time, 'sorted by time');
});

test('normal traffic alone raises no alert', (t) => {
  const traffic = generateTraffic({ seed: 5, episodesPerKind: 0, normalClients: 120 });
  const ev = evaluate(traffic);
  t.diagnostic(`normal events ${ev.normalEvents}, pairs ${ev.normalPairs}, false alerts ${ev.falseAlerts.length}`);
  assert.equal(ev.episodes, 0);
  assert.ok(ev.falsePositiveRate <= 0.005, JSON.stringify(ev.falseAlerts.slice(0, 5)));
});

test('each attack kind alone is found with the expected finding', (t) => {
  const kinds: EpisodeKind[] = ['iodine', 'dnscat2', 'exfiltration', 'water-torture', 'beacon', 'amplification'];
  for (const kind of kinds) {
    const traffic = generateTraffic({ seed: 21, normalClients: 20, kinds: [kind], episodesPerKind: 3 });
    const ev = evaluate(traffic);
    t.diagnostic(`${kind}: ${ev.detected}/${ev.episodes}`);
    assert.ok(ev.detected >= 2, `${kind}: ${ev.detected}/${ev.episodes} detected`);
  }
});
