// The audit against real servers on loopback: a careless BIND and a careless dnsmasq must show
// the classic findings, a hardened NSD none of high severity, and nmap's dns-zone-transfer and
// dns-nsid scripts must agree with us on the same targets.
//
// Addresses and ports: 127.0.0.21-24 and ports 15650-15659 (the audit's share). BIND only
// listens on addresses configured on an interface, so it gets 127.0.0.1 with a port from that
// share. No daemon may reach beyond loopback: BIND forwards only to the loopback NSD, has
// loopback root hints and no validation; dnsmasq has no resolv.conf and one loopback server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { networkClient, runAudit, type AuditOptions, type AuditReport, type FindingId } from '../../src/audit/index.js';
import { queryUdp } from '../../src/transport/client.js';
import { makeMessage, Name, RRClass, RRType } from '../../src/wire/index.js';

const CI = process.env.CI === 'true';
const PROBE = { address: '127.0.0.21', port: 15650 };
const BIND = { address: '127.0.0.1', port: 15651 };
const DNSMASQ = { address: '127.0.0.24', port: 15652 };
const NSD = { address: '127.0.0.23', port: 15653 };
const probeName = Name.parse('www.probe.test.');
// nmap's dns-zone-transfer keeps only the registrable part of the domain, judged by its own TLD
// list (which has no .test): the audited zones sit under .an, a retired ccTLD with no delegation
// left, served here on loopback only.
const BIND_ZONE = 'careless.an';
const DM_ZONE = 'dm.an';
const NSD_ZONE = 'hard.an';

function which(bin: string): string | undefined {
  for (const d of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin']) {
    try {
      accessSync(join(d, bin), constants.X_OK);
      return join(d, bin);
    } catch { /* next */ }
  }
  return undefined;
}

/** Skip message when a peer is missing, except under CI where a missing peer fails. */
function needs(...bins: string[]): string | false {
  const missing = bins.filter((b) => !which(b));
  return missing.length && !CI ? `peer missing: ${missing.join(', ')} (scripts/install-peers.sh)` : false;
}

interface Daemon { stop(): Promise<void>; output(): string }
const daemons: Daemon[] = [];
const dirs: string[] = [];

async function start(name: string, bin: string, args: string[], dir: string, at: { address: string; port: number }, zone: string): Promise<Daemon> {
  const path = which(bin);
  if (!path) throw new Error(`${bin} not found`);
  const child: ChildProcess = spawn(path, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d).slice(-20000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d).slice(-20000)));
  let exited = false;
  const gone = new Promise<void>((r) => child.on('exit', () => { exited = true; r(); }));
  const d: Daemon = {
    output: () => out,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(t);
      }
    },
  };
  daemons.push(d);
  const q = makeMessage({ question: [{ name: Name.parse(zone), type: RRType.SOA, class: RRClass.IN }] });
  // Up means answering; at most 100 polls of 300 ms.
  for (let i = 0; i < 100 && !exited; i++) {
    try {
      await queryUdp(at, q, { timeout: 300 });
      return d;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${name} did not come up on ${at.address}:${at.port}\n${out.slice(-3000)}`);
}

function tmp(name: string, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), `portcullis-audit-${name}-`));
  dirs.push(dir);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

const soa = (z: string) => `$TTL 300\n@ IN SOA ns1.${z}. hostmaster.${z}. 1 3600 600 86400 300\n@ IN NS ns1.${z}.\nns1 IN A 192.0.2.1\n`;

function nsdConf(dir: string, at: { address: string; port: number }, zone: string, extra: string[]): string {
  return [
    'server:', `  ip-address: ${at.address}@${at.port}`, `  pidfile: "${dir}/nsd.pid"`, `  zonesdir: "${dir}"`, '  database: ""',
    `  xfrdfile: "${dir}/xfrd.state"`, `  zonelistfile: "${dir}/zone.list"`, '  username: ""', '  verbosity: 1',
    ...extra.map((l) => `  ${l}`),
    'remote-control:', '  control-enable: no',
    'zone:', `  name: ${zone}`, `  zonefile: ${zone}.zone`, '',
  ].join('\n');
}

const BIG_TXT = [
  '"v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 ip4:203.0.113.0/24 include:_spf.mail.careless.an include:_spf2.mail.careless.an -all"',
  `"google-site-verification=${'0123456789abcdef'.repeat(4)}"`,
  `"ms=${'0123456789abcdef'.repeat(5)}"`,
];

const available = needs('nsd', 'named', 'dnsmasq');

before(async () => {
  if (available) return;
  const probeDir = tmp('probe-nsd', { 'probe.test.zone': `${soa('probe.test')}www IN A 192.0.2.80\n` });
  writeFileSync(join(probeDir, 'nsd.conf'), nsdConf(probeDir, PROBE, 'probe.test', []));
  await start('probe NSD', 'nsd', ['-d', '-c', join(probeDir, 'nsd.conf')], probeDir, PROBE, 'probe.test.');

  const bindDir = tmp('bind', {
    [`${BIND_ZONE}.zone`]: `${soa(BIND_ZONE)}www IN A 192.0.2.2\n@ IN MX 10 mail\nmail IN A 192.0.2.3\n${BIG_TXT.map((t) => `@ IN TXT ${t}`).join('\n')}\n`,
    // Root hints on loopback: BIND must never prime against the real root servers.
    'root.hint': `. 3600000 NS a.root.test.\na.root.test. 3600000 A ${PROBE.address}\n`,
  });
  writeFileSync(join(bindDir, 'named.conf'), [
    'options {', `  directory "${bindDir}";`, `  pid-file "${bindDir}/named.pid";`,
    `  listen-on port ${BIND.port} { ${BIND.address}; };`, '  listen-on-v6 { none; };',
    // Careless on purpose: recursion, cache and transfers for everyone, version and id shown.
    '  recursion yes;', '  allow-query { any; };', '  allow-recursion { any; };', '  allow-query-cache { any; };', '  allow-transfer { any; };',
    `  forwarders { ${PROBE.address} port ${PROBE.port}; };`, '  forward only;',
    `  query-source address ${BIND.address};`, '  dnssec-validation no;', '  notify no;', '  session-keyfile none;',
    '  server-id "careless-ns1.internal";', '};',
    'controls { };',
    'zone "." { type hint; file "root.hint"; };',
    `zone "${BIND_ZONE}" { type primary; file "${BIND_ZONE}.zone"; };`, '',
  ].join('\n'));
  await start('BIND', 'named', ['-g', '-n', '1', '-c', join(bindDir, 'named.conf')], bindDir, BIND, `${BIND_ZONE}.`);

  const dmDir = tmp('dnsmasq', {});
  await start('dnsmasq', 'dnsmasq', [
    '--keep-in-foreground', '--no-resolv', '--no-hosts', '--conf-file=/dev/null', '--pid-file=', '--log-facility=-',
    `--server=${PROBE.address}#${PROBE.port}`, `--port=${DNSMASQ.port}`, `--listen-address=${DNSMASQ.address}`, '--bind-interfaces',
    // An authoritative zone with secondaries but no --auth-peer: dnsmasq then allows AXFR to all.
    `--auth-server=ns.${DM_ZONE},${DNSMASQ.address}`, `--auth-zone=${DM_ZONE}`, `--auth-sec-servers=ns2.${DM_ZONE}`,
    `--host-record=www.${DM_ZONE},192.0.2.5`, `--txt-record=${DM_ZONE},${BIG_TXT[0]!.slice(1, -1)}`,
  ], dmDir, DNSMASQ, `${DM_ZONE}.`);

  const nsdDir = tmp('hard-nsd', { [`${NSD_ZONE}.zone`]: `${soa(NSD_ZONE)}www IN A 192.0.2.9\n@ IN TXT "v=spf1 -all"\n` });
  // Hardened: no version or identity, minimal ANY, response rate limiting, no transfers.
  writeFileSync(join(nsdDir, 'nsd.conf'), nsdConf(nsdDir, NSD, NSD_ZONE, ['hide-version: yes', 'hide-identity: yes', 'refuse-any: yes', 'rrl-ratelimit: 50', 'rrl-slip: 2']));
  await start('hardened NSD', 'nsd', ['-d', '-c', join(nsdDir, 'nsd.conf')], nsdDir, NSD, `${NSD_ZONE}.`);
});

after(async () => {
  for (const d of daemons.reverse()) await d.stop();
  if (!process.env.PORTCULLIS_KEEP_TMP) for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function opts(at: { address: string; port: number }, zone: string): AuditOptions {
  return {
    target: at.address, port: at.port, zones: [Name.parse(zone)], probeName, allow: ['127.0.0.0/8'],
    timeout: 1500, burstCount: 200, burstWindow: 2000,
  };
}

async function audit(at: { address: string; port: number }, zone: string): Promise<AuditReport> {
  return runAudit(networkClient(at, 1500), opts(at, zone));
}

const ids = (r: AuditReport): Set<FindingId> => new Set(r.findings.map((f) => f.id));
const summary = (r: AuditReport): string => r.findings.map((f) => `${f.id}/${f.severity}`).join(' ');

const reports = new Map<string, AuditReport>();

test('careless BIND: open recursion, open transfer, version shown, no rate limit, amplification', { skip: available }, async (t) => {
  const r = await audit(BIND, `${BIND_ZONE}.`);
  reports.set('bind', r);
  t.diagnostic(`${r.probes} probes: ${summary(r)}`);
  for (const id of ['open-recursion', 'zone-transfer-open', 'version-disclosure', 'no-rate-limit', 'amplification', 'cache-snooping', 'udp-open', 'tcp-open'] as const) {
    assert.ok(ids(r).has(id), `missing ${id}\n${JSON.stringify(r.checks, null, 1)}`);
  }
  const f = (id: FindingId) => r.findings.find((x) => x.id === id)!;
  assert.equal(f('open-recursion').severity, 'high');
  assert.match(f('open-recursion').evidence, /192\.0\.2\.80/);
  assert.match(f('version-disclosure').evidence, /9\.\d+\.\d+/);
  assert.match(f('version-disclosure').evidence, /careless-ns1\.internal/);
  assert.match(f('amplification').title, /factor \d+(\.\d)?×/);
  t.diagnostic(`amplification: ${f('amplification').title}`);
  assert.ok(!ids(r).has('edns-compliance'), f('edns-compliance')?.evidence);
  assert.equal(r.exitCode, 2);
});

test('careless dnsmasq: open recursion, open transfer, version shown, no rate limit, amplification', { skip: available }, async (t) => {
  const r = await audit(DNSMASQ, `${DM_ZONE}.`);
  reports.set('dnsmasq', r);
  t.diagnostic(`${r.probes} probes: ${summary(r)}`);
  for (const id of ['open-recursion', 'zone-transfer-open', 'version-disclosure', 'no-rate-limit', 'amplification'] as const) {
    assert.ok(ids(r).has(id), `missing ${id}\n${JSON.stringify(r.checks, null, 1)}`);
  }
  assert.match(r.findings.find((x) => x.id === 'version-disclosure')!.evidence, /dnsmasq-2\.\d+/);
  t.diagnostic(`EDNS: ${r.findings.find((x) => x.id === 'edns-compliance')?.evidence ?? r.checks.find((c) => c.check === 'edns-compliance')?.detail}`);
  assert.equal(r.exitCode, 2);
});

test('hardened NSD: no high finding; rate limiting and minimal ANY seen', { skip: available }, async (t) => {
  const r = await audit(NSD, `${NSD_ZONE}.`);
  reports.set('nsd', r);
  t.diagnostic(`${r.probes} probes: ${summary(r)}`);
  t.diagnostic(`checks: ${r.checks.map((c) => `${c.check}=${c.status}`).join(' ')}`);
  assert.deepEqual(r.findings.filter((f) => f.severity === 'high').map((f) => `${f.id}: ${f.evidence}`), []);
  for (const id of ['open-recursion', 'zone-transfer-open', 'version-disclosure', 'no-rate-limit', 'any-not-minimal', 'cache-snooping'] as const) {
    assert.ok(!ids(r).has(id), `unexpected ${id}: ${r.findings.find((f) => f.id === id)?.evidence}`);
  }
  assert.ok(r.exitCode <= 1);
});

function nmap(args: string[]): string {
  const res = spawnSync(which('nmap')!, ['-n', '-Pn', ...args], { encoding: 'utf8', timeout: 60000 });
  return `${res.stdout}${res.stderr}`;
}

test('nmap dns-zone-transfer agrees on every target', { skip: available || needs('nmap') }, (t) => {
  const cases: [string, { address: string; port: number }, string][] = [['bind', BIND, BIND_ZONE], ['dnsmasq', DNSMASQ, DM_ZONE], ['nsd', NSD, NSD_ZONE]];
  for (const [key, at, zone] of cases) {
    const out = nmap(['-sn', '--script', 'dns-zone-transfer', '--script-args', `dns-zone-transfer.domain=${zone},dns-zone-transfer.server=${at.address},dns-zone-transfer.port=${at.port}`]);
    // The script prints the transferred records (the zone's SOA among them) only on success.
    const nmapOpen = new RegExp(`\\| ${zone.replace('.', '\\.')}\\.?\\s+SOA`).test(out);
    const ours = ids(reports.get(key) ?? { findings: [] } as unknown as AuditReport).has('zone-transfer-open');
    t.diagnostic(`${key}: nmap ${nmapOpen ? 'open' : 'closed'}, audit ${ours ? 'open' : 'closed'}`);
    assert.ok(reports.has(key), `no audit report for ${key}`);
    assert.equal(ours, nmapOpen, out);
  }
});

test('nmap dns-nsid agrees on every target', { skip: available || needs('nmap') }, (t) => {
  const cases: [string, { address: string; port: number }][] = [['bind', BIND], ['dnsmasq', DNSMASQ], ['nsd', NSD]];
  for (const [key, at] of cases) {
    // dns-nsid runs on ports nmap identifies as "domain": -sV does that on a non-standard port.
    const out = nmap(['-sU', '-sV', '--version-intensity', '2', '-p', String(at.port), '--script', 'dns-nsid', at.address]);
    const nmapSaw = /\|[_ ]dns-nsid:/.test(out) && /(NSID|id\.server|bind\.version):/.test(out);
    const ours = ids(reports.get(key) ?? { findings: [] } as unknown as AuditReport).has('version-disclosure');
    t.diagnostic(`${key}: nmap ${nmapSaw ? 'disclosed' : 'nothing'}, audit ${ours ? 'disclosed' : 'nothing'}`);
    assert.ok(reports.has(key), `no audit report for ${key}`);
    assert.equal(ours, nmapSaw, out);
  }
});

test('the CLI prints JSON and exits with the worst severity', { skip: available }, async () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const cli = resolve(here, '../../src/cli/audit.js');
  // Registers the command on a bare program, as the integrator does in main.ts.
  const script = `import { Command } from 'commander'; const { registerAuditCommand } = await import(${JSON.stringify(cli)}); const p = new Command('portcullis'); registerAuditCommand(p); await p.parseAsync(process.argv);`;
  const run = (args: string[]) => spawnSync(process.execPath, ['--input-type=module', '-e', script, 'node', ...args], { encoding: 'utf8', timeout: 60000, cwd: resolve(here, '../../..') });
  const res = run(['audit', NSD.address, '--port', String(NSD.port), '--zone', NSD_ZONE, '--probe-name', probeName.toString(), '--allow', '10.0.0.0/8', '--json', '--timeout', '1500']);
  const report = JSON.parse(res.stdout) as AuditReport;
  assert.equal(report.target, NSD.address);
  assert.equal(res.status, report.exitCode);
  assert.ok(report.findings.every((f) => ['info', 'warning', 'high'].includes(f.severity) && f.remediation.bind.length > 0));
  const bad = run(['audit', NSD.address, '--port', '99999']);
  assert.equal(bad.status, 4, bad.stderr);
  assert.match(bad.stderr, /--port must be an integer/);
});
