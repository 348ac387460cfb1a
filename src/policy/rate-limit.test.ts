import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from './rate-limit.js';

test('token bucket: answers ≈ rate × time plus one burst, slips ≈ limited / slip', () => {
  let ms = 0;
  const rrl = new RateLimiter({ responsesPerSecond: 20, slip: 2, window: 15, now: () => ms });
  const verdicts = { send: 0, slip: 0, drop: 0 };
  // 5,000 identical queries spread evenly over 2 seconds from one client.
  for (let i = 0; i < 5000; i++) {
    ms = (i * 2000) / 5000;
    verdicts[rrl.account('192.0.2.10', 'responses', 'www.example.test./1')]++;
  }
  assert.ok(verdicts.send >= 55 && verdicts.send <= 62, `sent ${verdicts.send}`);
  const limited = verdicts.slip + verdicts.drop;
  assert.equal(limited, 5000 - verdicts.send);
  assert.ok(Math.abs(verdicts.slip - limited / 2) <= 1, `slipped ${verdicts.slip} of ${limited}`);
  // Another client, and the same client in another /24, are unaffected.
  assert.equal(rrl.account('198.51.100.1', 'responses', 'www.example.test./1'), 'send');
  assert.notEqual(rrl.account('192.0.2.200', 'responses', 'www.example.test./1'), 'send', 'same /24 shares the bucket');
});

test('window: an idle bucket is forgotten, its slip count with it', () => {
  let ms = 0;
  const rrl = new RateLimiter({ responsesPerSecond: 5, slip: 3, window: 3, now: () => ms });
  for (let i = 0; i < 7; i++) rrl.account('192.0.2.1', 'responses', 'x');
  assert.equal(rrl.stats.limited, 2);
  ms = 1000; // a second earns 5 credits, no more
  let sent = 0;
  for (let i = 0; i < 10; i++) if (rrl.account('192.0.2.1', 'responses', 'x') === 'send') sent++;
  assert.equal(sent, 5);
  ms = 10_000;
  assert.equal(rrl.account('192.0.2.1', 'responses', 'x'), 'send');
});

test('log-only counts but never limits; rate 0 is unlimited; LRU cap holds', () => {
  const rrl = new RateLimiter({ responsesPerSecond: 1, logOnly: true, now: () => 0, maxBuckets: 10 });
  for (let i = 0; i < 10; i++) assert.equal(rrl.account('192.0.2.1', 'responses', 'x'), 'send');
  assert.equal(rrl.stats.logOnly, 9);
  for (let i = 0; i < 100; i++) rrl.account(`10.0.${i}.1`, 'responses', 'x');
  assert.equal(rrl.bucketCount, 10);
  const open = new RateLimiter({ responsesPerSecond: 0, now: () => 0 });
  for (let i = 0; i < 100; i++) assert.equal(open.account('192.0.2.1', 'errors', ''), 'send');
});
