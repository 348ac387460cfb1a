// The dashboard in Debian's Chromium (playwright-core): the page loads, numbers move while
// events flow, and an alert appears when tunnel traffic is replayed. Screenshots go to
// test-artifacts/. The control server runs in-process with a Monitor behind a fake provider.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startControl, type ControlProvider } from '../../src/control/index.js';
import { Monitor } from '../../src/monitor/index.js';
import { generateTraffic, type TrafficEvent } from '../../src/monitor/traffic/generator.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = 'test-artifacts';

test('dashboard shows live numbers and a tunneling alert', async (t) => {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true') assert.fail(`${CHROMIUM} is missing (apt install chromium)`);
    t.skip(`${CHROMIUM} not installed`);
    return;
  }
  const { chromium } = await import('playwright-core');
  const monitor = new Monitor({ logger: pino({ level: 'silent' }) });
  const provider: ControlProvider = {
    status: () => ({ version: 'test' }),
    stats: () => ({ ...monitor.stats() }),
    zones: () => [{ name: 'example.test.', serial: 2024052801, kind: 'primary' }],
    alerts: () => monitor.alerts(),
    reload: () => ({ ok: true }),
    flushCache: () => ({ flushed: 0 }),
    cacheLookup: () => [],
  };
  const srv = await startControl({ listen: '127.0.0.42:15910', provider, metrics: monitor.metrics });

  // Normal traffic and one iodine tunnel, replayed in real time at 10x speed.
  const normal = generateTraffic({ seed: 3, normalClients: 40, episodesPerKind: 0, durationMs: 10 * 60_000 });
  const tunnelTraffic = generateTraffic({ seed: 4, normalClients: 1, kinds: ['iodine'], episodesPerKind: 1 });
  const tunnel = tunnelTraffic.events.filter((e) => e.episode >= 0);
  const speed = 10;
  let timer: NodeJS.Timeout | undefined;
  const replay = (events: readonly TrafficEvent[]) => {
    const real0 = Date.now();
    const virt0 = events[0]!.time;
    let i = 0;
    clearInterval(timer);
    timer = setInterval(() => {
      const now = Date.now();
      const upTo = virt0 + (now - real0) * speed;
      for (let sent = 0; i < events.length && events[i]!.time <= upTo && sent < 5000; i++, sent++) {
        monitor.observe({ ...events[i]!, time: real0 + (events[i]!.time - virt0) / speed });
      }
    }, 50);
  };

  const profile = mkdtempSync(join(tmpdir(), 'portcullis-chromium-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  // A fresh profile directory per run (playwright's persistent context is how it takes one).
  let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const consoleErrors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    await page.goto(srv.url + '/');
    assert.equal(await page.title(), 'Portcullis');
    await page.waitForSelector('#zones tbody tr', { timeout: 15_000 });
    assert.match((await page.textContent('#zones tbody')) ?? '', /example\.test\.\s*2024052801/);
    const count = async () => Number(((await page.textContent('#queries')) ?? '').replace(/[^0-9]/g, '') || '0');

    replay(normal.events);
    // Runs in the page (the page's CSP forbids string eval); `globalThis` keeps DOM types out of
    // this Node-only compilation.
    const shownAbove = (n: number) =>
      Number((((globalThis as any).document.getElementById('queries').textContent as string) || '').replace(/[^0-9]/g, '')) > n;
    await page.waitForFunction(shownAbove, 0, { timeout: 15_000 });
    const first = await count();
    await page.waitForFunction(shownAbove, first, { timeout: 15_000 });
    const second = await count();
    t.diagnostic(`queries shown: ${first} then ${second}`);
    assert.ok(second > first, 'the query count moves while events flow');
    await page.waitForSelector('#top-clients tbody tr', { timeout: 15_000 });
    assert.equal(await page.locator('#alerts tbody tr').count(), 0, 'no alert on normal traffic');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-normal.png'), fullPage: true });

    replay(tunnel);
    await page.waitForSelector('#alerts tbody tr[data-type="tunneling"]', { timeout: 30_000 });
    const row = (await page.textContent('#alerts tbody tr[data-type="tunneling"]')) ?? '';
    t.diagnostic(`alert row: ${row.slice(0, 200)}`);
    assert.ok(row.includes(tunnelTraffic.episodes[0]!.domain), 'the alert names the tunnel domain');
    assert.match(row, /entropyBitsPerChar=/, 'evidence is shown');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-alert.png'), fullPage: true });
    assert.deepEqual(consoleErrors, []);
  } finally {
    clearInterval(timer);
    await context?.close();
    await srv.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
