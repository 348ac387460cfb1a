// The dashboard end to end against the real server: `portcullis serve` runs as a child process
// with its control API on loopback, Debian's Chromium (playwright-core) opens `/`, and real DNS
// queries over UDP and TCP make the numbers move (authoritative answers, and recursive ones
// through a loopback root so the cache hit ratio is real). Replaying the traffic generator's
// iodine-style tunnel names as queries to a zone the server serves raises a `tunneling` alert
// with its evidence; the tunnel client's next query is REFUSED with EDE 15 (block). A
// water-torture burst of random names raises `random-subdomain`. Screenshots: test-artifacts/.
// Addresses 127.0.0.42-48, ports 15930-15939.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEde, decodeMessage, EdeCode, EdnsOptionCode, encodeMessage, getOption, Rcode, type Message } from '../../src/wire/index.js';
import { generateTraffic } from '../../src/monitor/traffic/generator.js';
import type { Alert } from '../../src/monitor/types.js';
import { queryMessage, startServe } from '../unit/server-harness.js';
import { runServer, tempDir } from '../unit/wiring-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = 'test-artifacts';
const HOST = '127.0.0.42';
const ROOT_HOST = '127.0.0.43';
const DNS_PORT = 15930;
const CONTROL_PORT = 15931;
const ROOT_PORT = 15932;
const NORMAL_CLIENT = '127.0.0.48';
const TUNNEL_CLIENT = '127.0.0.45';
const BOTS = ['127.0.0.44', '127.0.0.46', '127.0.0.47'];

/** A UDP client bound to one source address (a distinct client for the server); answers matched by ID. */
class UdpClient {
  private readonly pending = new Map<number, (m: Message | undefined) => void>();
  private nextId = 1;
  private constructor(private readonly sock: UdpSocket) {
    sock.on('message', (buf) => {
      let m: Message;
      try {
        m = decodeMessage(buf);
      } catch {
        return;
      }
      const done = this.pending.get(m.id);
      if (done) {
        this.pending.delete(m.id);
        done(m);
      }
    });
  }

  static open(source: string): Promise<UdpClient> {
    const sock = createSocket('udp4');
    return new Promise((res) => sock.bind({ address: source, port: 0 }, () => res(new UdpClient(sock))));
  }

  /** One query; undefined when no answer came within `timeoutMs`. */
  ask(name: string, type: string, timeoutMs = 3000): Promise<Message | undefined> {
    const id = this.nextId++ & 0xffff;
    const wire = encodeMessage(queryMessage(name, type, { id, rd: true, edns: {} }));
    return new Promise((res) => {
      const t = setTimeout(() => { this.pending.delete(id); res(undefined); }, timeoutMs);
      this.pending.set(id, (m) => { clearTimeout(t); res(m); });
      this.sock.send(wire, DNS_PORT, HOST);
    });
  }

  close(): void {
    this.sock.close();
  }
}

/** One query over TCP (its own connection). */
function tcpAsk(name: string, type: string, timeoutMs = 3000): Promise<Message> {
  const wire = encodeMessage(queryMessage(name, type, { rd: true }));
  return new Promise((res, rej) => {
    const s = connect({ host: HOST, port: DNS_PORT, localAddress: NORMAL_CLIENT });
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => { s.destroy(); rej(new Error('no TCP answer')); }, timeoutMs);
    s.on('connect', () => s.write(Buffer.concat([Buffer.from([wire.length >> 8, wire.length & 255]), wire])));
    s.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(t);
        s.destroy();
        res(decodeMessage(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    });
    s.on('error', (e) => { clearTimeout(t); rej(e); });
  });
}

function ede(m: Message): { infoCode: number; text: string } | undefined {
  const o = getOption(m.edns, EdnsOptionCode.EDE);
  return o ? decodeEde(o) : undefined;
}

async function getJson<T>(path: string): Promise<T> {
  const r = await fetch(`http://${HOST}:${CONTROL_PORT}${path}`);
  assert.equal(r.status, 200, `${path}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

const zoneText = (origin: string, extra: string) => `$TTL 300
@    IN SOA ns1.${origin}. hostmaster.${origin}. 1 7200 3600 1209600 300
     IN NS  ns1
ns1  IN A   192.0.2.53
www  IN A   192.0.2.10
${extra}
`;

test('dashboard against `portcullis serve`: live numbers from real queries, tunneling alert with evidence and block, random-subdomain', async (t) => {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true') assert.fail(`${CHROMIUM} is missing (apt install chromium)`);
    t.skip(`${CHROMIUM} not installed`);
    return;
  }
  const { chromium } = await import('playwright-core');

  // Attack names from the seeded generator: one iodine tunnel and one water-torture flood.
  const iodine = generateTraffic({ seed: 11, normalClients: 1, kinds: ['iodine'], episodesPerKind: 1 });
  const torture = generateTraffic({ seed: 12, normalClients: 1, kinds: ['water-torture'], episodesPerKind: 1 });
  const tunnelDomain = iodine.episodes[0]!.domain;
  const victimDomain = torture.episodes[0]!.domain;
  const tunnelEvents = iodine.events.filter((e) => e.episode === 0);
  const tortureEvents = torture.events.filter((e) => e.episode === 0);
  t.diagnostic(`tunnel ${tunnelDomain}: ${tunnelEvents.length} generated queries; flood ${victimDomain}: ${tortureEvents.length}`);
  assert.ok(tunnelEvents.length >= 100 && tortureEvents.length >= 200);

  const root = await runServer(tempDir({ 'root.zone': `$TTL 3600
.        IN SOA ns. hostmaster.root. 1 7200 3600 1209600 300
.        IN NS  ns.
ns.      IN A   ${ROOT_HOST}
www.ext. IN A   192.0.2.99
` }), `listen: ["${ROOT_HOST}:${ROOT_PORT}"]\ncookies: { enabled: false }\nzones:\n  - name: "."\n    file: root.zone\n`);

  const dir = mkdtempSync(join(tmpdir(), 'pc-dashboard-e2e-'));
  // The tunnel zone answers every name (wildcard TXT): tunnels get answers; the victim zone has
  // no wildcard, so random names fail as water torture makes them.
  writeFileSync(join(dir, 'tunnel.zone'), zoneText(tunnelDomain, '*    IN TXT "ok"'));
  writeFileSync(join(dir, 'victim.zone'), zoneText(victimDomain, ''));
  writeFileSync(join(dir, 'example.zone'), zoneText('example.test', 'mail IN MX 10 www'));
  writeFileSync(join(dir, 'root.hints'), `.  3600000 IN NS ns.\nns. 3600000 IN A ${ROOT_HOST}\n`);
  writeFileSync(join(dir, 'portcullis.yaml'), `listen: ["${HOST}:${DNS_PORT}"]
cookies: { enabled: false }
zones:
  - { name: ${tunnelDomain}, file: tunnel.zone }
  - { name: ${victimDomain}, file: victim.zone }
  - { name: example.test, file: example.zone }
resolver: { allow: [127.0.0.0/8], root-hints: root.hints, query-port: ${ROOT_PORT}, dnssec: off }
control: { listen: "${HOST}:${CONTROL_PORT}" }
monitor: { client-privacy: full }
detection:
  window: 10
  actions: { tunneling: block, random-subdomain: throttle }
`);
  const serve = startServe(['serve', '--config', join(dir, 'portcullis.yaml')]);
  const profile = mkdtempSync(join(tmpdir(), 'portcullis-chromium-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  const clients: UdpClient[] = [];
  let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
  try {
    await serve.ready;
    const normal = await UdpClient.open(NORMAL_CLIENT);
    const tunnel = await UdpClient.open(TUNNEL_CLIENT);
    const bots = await Promise.all(BOTS.map((b) => UdpClient.open(b)));
    clients.push(normal, tunnel, ...bots);

    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const consoleErrors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    await page.goto(`http://${HOST}:${CONTROL_PORT}/`);
    assert.equal(await page.title(), 'Portcullis');
    await page.waitForSelector('#zones tbody tr', { timeout: 15_000 });
    const zonesText = (await page.textContent('#zones tbody')) ?? '';
    assert.ok(zonesText.includes(tunnelDomain) && zonesText.includes('example.test'), `zones listed: ${zonesText}`);
    const shown = async (id: string) => Number(((await page.textContent('#' + id)) ?? '').replace(/[^0-9.]/g, '') || '0');

    // ---- normal traffic over UDP and TCP: authoritative, and recursive (first a miss, then hits)
    let answered = 0;
    for (let round = 0; round < 5; round++) {
      for (const [name, type] of [['www.example.test.', 'A'], ['mail.example.test.', 'MX'], ['www.ext.', 'A'], ['nothere.example.test.', 'A']] as const) {
        const m = await normal.ask(name, type);
        assert.ok(m, `answer for ${name}`);
        answered++;
      }
      const tm = await tcpAsk('www.ext.', 'A');
      assert.equal(tm.rcode, Rcode.NOERROR);
      assert.equal(tm.answer[0]!.data.address, '192.0.2.99');
      answered++;
    }
    // Runs in the page; `globalThis` keeps DOM types out of this Node-only compilation.
    const numberAtLeast = ([id, n]: [string, number]) =>
      Number((((globalThis as any).document.getElementById(id).textContent as string) || '').replace(/[^0-9.]/g, '')) >= n;
    await page.waitForFunction(numberAtLeast, ['queries', answered] as [string, number], { timeout: 15_000 });
    const firstCount = await shown('queries');
    await page.waitForFunction(numberAtLeast, ['hit-ratio', 1] as [string, number], { timeout: 15_000 });
    const ratioText = (await page.textContent('#hit-ratio')) ?? '';
    const detail = (await page.textContent('#cache-detail')) ?? '';
    t.diagnostic(`after ${answered} queries: dashboard shows ${firstCount} queries, hit ratio ${ratioText} (${detail})`);
    // www.ext. was asked 10 times (5 UDP, 5 TCP): one resolution, nine cache answers.
    assert.match(ratioText, /^90\.0%$/);
    assert.match(detail, /^9 hits, 1 misses/);
    const stats = await getJson<{ cache: { hits: number; misses: number }; transports: Record<string, number> }>('/api/stats');
    assert.equal(stats.transports.tcp, 5);
    const metrics = await (await fetch(`http://${HOST}:${CONTROL_PORT}/metrics`)).text();
    assert.match(metrics, /^portcullis_cache_hit_ratio 0\.9$/m);
    assert.match(metrics, /^portcullis_resolver_queries_total 10$/m);
    await page.waitForSelector('#top-clients tbody tr', { timeout: 15_000 });
    assert.match((await page.textContent('#top-clients tbody')) ?? '', new RegExp(NORMAL_CLIENT.replaceAll('.', '\\.')));
    assert.equal(await page.locator('#alerts tbody tr').count(), 0, 'no alert on normal traffic');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-e2e-normal.png'), fullPage: true });

    // ---- tunnel: the generator's iodine names under our zone, sent until the detector sees it
    let sent = 0;
    let alerts: Alert[] = [];
    const tunnelNames = tunnelEvents.map((e) => ({ name: typeof e.qname === 'string' ? e.qname : e.qname.toString(), type: e.qtype }));
    for (let i = 0; i < tunnelNames.length && sent < 600; i += 10) {
      const batch = tunnelNames.slice(i, i + 10);
      const answers = await Promise.all(batch.map((q) => tunnel.ask(q.name.endsWith('.') ? q.name : q.name + '.', q.type === 10 ? 'NULL' : q.type === 16 ? 'TXT' : `TYPE${q.type}`)));
      sent += batch.length;
      assert.ok(answers.every((a) => a !== undefined), 'every tunnel query answered');
      alerts = await getJson<Alert[]>('/api/alerts');
      if (alerts.some((a) => a.type === 'tunneling')) break;
    }
    t.diagnostic(`tunnel queries sent before the alert: ${sent}`);
    const tunnelAlert = alerts.find((a) => a.type === 'tunneling');
    assert.ok(tunnelAlert, `tunneling alert raised (alerts: ${JSON.stringify(alerts)})`);
    assert.equal(tunnelAlert.domain, tunnelDomain);
    assert.equal(tunnelAlert.client, TUNNEL_CLIENT);
    assert.equal(tunnelAlert.action, 'block');
    await page.waitForSelector('#alerts tbody tr[data-type="tunneling"]', { timeout: 15_000 });
    const row = (await page.textContent('#alerts tbody tr[data-type="tunneling"]')) ?? '';
    t.diagnostic(`alert row: ${row.slice(0, 240)}`);
    assert.ok(row.includes(tunnelDomain) && row.includes(TUNNEL_CLIENT), 'the row names the domain and the client');
    assert.match(row, /block until/);
    assert.match(row, /entropyBitsPerChar=\d/, 'evidence is shown');
    assert.match(row, /tunnelTypeShare=/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-e2e-tunneling.png'), fullPage: true });

    // ---- block: the tunnel client's next query is REFUSED with EDE 15; others are still answered
    const blocked = await tunnel.ask(`pabc.t.${tunnelDomain}.`, 'TXT');
    assert.ok(blocked);
    assert.equal(blocked.rcode, Rcode.REFUSED);
    const e = ede(blocked);
    assert.equal(e?.infoCode, EdeCode.BLOCKED);
    assert.match(e!.text, new RegExp(`tunneling detected for ${tunnelDomain.replaceAll('.', '\\.')}.*blocked`));
    const other = await normal.ask(`www.${tunnelDomain}.`, 'A');
    assert.equal(other?.rcode, Rcode.NOERROR, 'the block is for the (client, domain) pair');

    // ---- water torture: random names under the victim zone from several bots
    sent = 0;
    for (let i = 0; i < tortureEvents.length && sent < 1500; i += 30) {
      const batch = tortureEvents.slice(i, i + 30);
      await Promise.all(batch.map((ev, j) => bots[j % bots.length]!.ask(typeof ev.qname === 'string' ? (ev.qname.endsWith('.') ? ev.qname : ev.qname + '.') : ev.qname.toString(), 'A', 2000)));
      sent += batch.length;
      alerts = await getJson<Alert[]>('/api/alerts');
      if (alerts.some((a) => a.type === 'random-subdomain')) break;
    }
    t.diagnostic(`water-torture queries sent before the alert: ${sent}`);
    const flood = alerts.find((a) => a.type === 'random-subdomain');
    assert.ok(flood, `random-subdomain alert raised (alerts: ${JSON.stringify(alerts.map((a) => a.type))})`);
    assert.equal(flood.domain, victimDomain);
    assert.equal(flood.client, '*', 'several bots');
    await page.waitForSelector('#alerts tbody tr[data-type="random-subdomain"]', { timeout: 15_000 });
    const floodRow = (await page.textContent('#alerts tbody tr[data-type="random-subdomain"]')) ?? '';
    assert.match(floodRow, /failRatio=/);
    assert.equal(await shown('alert-count') >= 2, true);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-e2e-flood.png'), fullPage: true });

    const after = await (await fetch(`http://${HOST}:${CONTROL_PORT}/metrics`)).text();
    assert.match(after, /^portcullis_detection_alerts_total\{type="tunneling"\} 1$/m);
    assert.match(after, /^portcullis_detection_alerts_total\{type="random-subdomain"\} 1$/m);
    assert.match(after, /^portcullis_detection_actions_total\{action="block",type="tunneling"\} [1-9]/m);
    assert.ok(await shown('queries') > firstCount, 'the query count moved');
    assert.deepEqual(consoleErrors, []);
  } finally {
    for (const c of clients) c.close();
    await context?.close();
    serve.proc.kill('SIGTERM');
    await serve.exited;
    await root.stop();
    rmSync(profile, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
