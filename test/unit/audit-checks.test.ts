import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkClient, runAudit, type AuditOptions, type AuditReport, type FindingId } from '../../src/audit/index.js';
import { startFakeServer, type FakeServerOptions } from '../../src/audit/fake-server.js';
import { keyTag } from '../../src/audit/checks/dnssec.js';
import { Name, recordFromText, RRClass, RRType, type ResourceRecord } from '../../src/wire/index.js';

// Fake servers on 127.0.0.20, ports 15610-15629 (this file's share of the audit's range).
const HOST = '127.0.0.20';
const zone = Name.parse('audit.test.');
const probe = Name.parse('www.probe.test.');

function dnskey(pub: number): Uint8Array {
  // flags 257 (KSK), protocol 3, algorithm 13, a 64-byte "public key".
  const b = new Uint8Array(4 + 64);
  b.set([1, 1, 3, 13]);
  for (let i = 0; i < 64; i++) b[4 + i] = (pub + i * 7) & 0xff;
  return b;
}

function rrsig(covered: number, tag: number, inception: number, expiration: number): Uint8Array {
  const signer = zone.toWire();
  const b = new Uint8Array(18 + signer.length + 64);
  const v = new DataView(b.buffer);
  v.setUint16(0, covered);
  b[2] = 13;
  b[3] = 2;
  v.setUint32(4, 300);
  v.setUint32(8, expiration);
  v.setUint32(12, inception);
  v.setUint16(16, tag);
  b.set(signer, 18);
  return b;
}

function zoneRecords(opts: { signed?: 'valid' | 'expired' } = {}): ResourceRecord[] {
  const rrs = [
    recordFromText('@ 300 IN SOA ns1 hostmaster 2024010101 3600 600 86400 300', zone),
    recordFromText('@ 300 IN NS ns1', zone),
    recordFromText('@ 300 IN NS ns2', zone),
    recordFromText('@ 300 IN MX 10 mail', zone),
    recordFromText('ns1 300 IN A 192.0.2.1', zone),
    recordFromText('ns2 300 IN A 192.0.2.2', zone),
    recordFromText('mail 300 IN A 192.0.2.3', zone),
  ];
  // Large TXT records make ANY and TXT answers big, as SPF/DKIM-laden zones are.
  for (let i = 0; i < 6; i++) rrs.push({ name: zone, type: RRType.TXT, class: RRClass.IN, ttl: 300, data: { strings: [Buffer.from(`v=spf1 ${'include:_spf' + i + '.example '.repeat(10)}`.slice(0, 250))] } });
  if (opts.signed) {
    const key = dnskey(9);
    const tag = keyTag(key);
    const now = Math.floor(Date.now() / 1000);
    const [inc, exp] = opts.signed === 'valid' ? [now - 86400, now + 86400 * 30] : [now - 86400 * 60, now - 86400 * 30];
    rrs.push({ name: zone, type: RRType.DNSKEY, class: RRClass.IN, ttl: 300, data: key });
    rrs.push({ name: zone, type: RRType.RRSIG, class: RRClass.IN, ttl: 300, data: rrsig(RRType.DNSKEY, tag, inc, exp) });
    rrs.push({ name: zone, type: RRType.RRSIG, class: RRClass.IN, ttl: 300, data: rrsig(RRType.SOA, tag, inc, exp) });
  }
  return rrs;
}

const careless = (port: number): FakeServerOptions => ({
  address: HOST, port, zone, records: zoneRecords(),
  recursionName: probe, allowTransfer: true, version: '9.9.9-careless', hostname: 'ns1.internal.corp', nsid: 'ns1-rack4',
});
const hardened = (port: number): FakeServerOptions => ({
  address: HOST, port, zone, records: zoneRecords({ signed: 'valid' }),
  rateLimit: 20, cookies: true, minimalAny: true,
});

function options(port: number, extra: Partial<AuditOptions> = {}): AuditOptions {
  return { target: HOST, port, zones: [zone], probeName: probe, allow: ['10.0.0.0/8'], timeout: 1000, burstCount: 60, burstWindow: 300, ...extra };
}

async function audit(server: FakeServerOptions, extra: Partial<AuditOptions> = {}): Promise<AuditReport> {
  const s = await startFakeServer(server);
  try {
    return await runAudit(networkClient({ address: HOST, port: server.port }, extra.timeout ?? 1000), options(server.port, extra));
  } finally {
    await s.close();
  }
}

const ids = (r: AuditReport): Set<FindingId> => new Set(r.findings.map((f) => f.id));
const find = (r: AuditReport, id: FindingId) => r.findings.find((f) => f.id === id);

test('careless server: recursion, cache snooping, open transfer, version, no RRL, full ANY, amplification; exit 2', async (t) => {
  const r = await audit(careless(15610));
  t.diagnostic(`${r.probes} probes, findings: ${r.findings.map((f) => `${f.id}/${f.severity}`).join(' ')}`);
  for (const id of ['udp-open', 'tcp-open', 'open-recursion', 'cache-snooping', 'zone-transfer-open', 'version-disclosure', 'no-rate-limit', 'any-not-minimal', 'no-cookies', 'dnssec-missing', 'amplification'] as const) {
    assert.ok(ids(r).has(id), `missing ${id}`);
  }
  assert.equal(find(r, 'open-recursion')!.severity, 'high');
  assert.equal(find(r, 'zone-transfer-open')!.severity, 'high');
  assert.match(find(r, 'version-disclosure')!.evidence, /9\.9\.9-careless/);
  assert.match(find(r, 'version-disclosure')!.evidence, /ns1\.internal\.corp/);
  assert.match(find(r, 'version-disclosure')!.evidence, /NSID "ns1-rack4"/);
  // The transfer holds every zone record plus the closing copy of the SOA.
  assert.match(find(r, 'zone-transfer-open')!.evidence, new RegExp(`AXFR audit\\.test\\.: ${zoneRecords().length + 1} records`));
  assert.match(find(r, 'no-rate-limit')!.evidence, /60 answered in full/);
  assert.ok(!ids(r).has('edns-compliance'), find(r, 'edns-compliance')?.evidence);
  assert.ok(!ids(r).has('tcp-missing'));
  assert.equal(r.exitCode, 2);
  assert.ok(r.probes <= 200, `${r.probes} probes`);
  // Findings come worst first and each carries advice for every server and firewall rules.
  const order = r.findings.map((f) => ({ high: 2, warning: 1, info: 0 })[f.severity]);
  assert.deepEqual(order, [...order].sort((a, b) => b - a));
  const rec = find(r, 'open-recursion')!.remediation;
  assert.match(rec.bind, /allow-recursion/);
  assert.match(rec.firewall!.iptables, /-s 10\.0\.0\.0\/8 -j ACCEPT/);
});

test('hardened server: no high finding, rate limit and cookies seen, DNSSEC structurally sound', async (t) => {
  const r = await audit(hardened(15611));
  t.diagnostic(`findings: ${r.findings.map((f) => `${f.id}/${f.severity}`).join(' ')}`);
  assert.deepEqual(r.findings.filter((f) => f.severity === 'high').map((f) => f.id), []);
  for (const id of ['open-recursion', 'cache-snooping', 'zone-transfer-open', 'version-disclosure', 'no-rate-limit', 'any-not-minimal', 'no-cookies', 'dnssec-missing', 'dnssec-broken'] as const) {
    assert.ok(!ids(r).has(id), `unexpected ${id}: ${find(r, id)?.evidence}`);
  }
  const rl = r.checks.find((c) => c.check === 'no-rate-limit')!;
  assert.equal(rl.status, 'pass');
  assert.match(rl.detail, /truncated \(slip\)/);
  assert.ok(r.exitCode <= 1);
});

test('expired signatures are dnssec-broken (high)', async () => {
  const r = await audit({ ...hardened(15612), records: zoneRecords({ signed: 'expired' }) });
  const f = find(r, 'dnssec-broken');
  assert.ok(f, 'dnssec-broken missing');
  assert.equal(f.severity, 'high');
  assert.match(f.evidence, /expired/);
});

test('broken EDNS (no BADVERS, options and flags echoed) fails the matching probes only', async () => {
  const r = await audit({ ...hardened(15613), brokenEdns: true });
  const f = find(r, 'edns-compliance');
  assert.ok(f, 'edns-compliance missing');
  for (const p of ['edns1', 'edns1opt', 'ednsopt', 'ednsflags']) assert.match(f.evidence, new RegExp(`\\b${p}=FAIL`));
  for (const p of ['dns', 'edns', 'do', 'opcode', 'type666', 'tcp', 'ednstcp', 'zflag']) assert.match(f.evidence, new RegExp(`(^|; |: )${p}=ok`));
});

test('UDP without TCP is tcp-missing; no TCP means no transfer test', async () => {
  const r = await audit({ ...careless(15614), tcp: false }, { timeout: 400 });
  assert.ok(ids(r).has('tcp-missing'));
  assert.ok(!ids(r).has('tcp-open'));
  assert.equal(r.checks.find((c) => c.check === 'zone-transfer-open')?.status, 'skipped');
});

test('a TCP path that still truncates is tcp-fallback (high)', async () => {
  const r = await audit({ ...hardened(15615), brokenTcp: true });
  const f = find(r, 'tcp-fallback');
  assert.ok(f, `tcp-fallback missing; checks: ${JSON.stringify(r.checks.find((c) => c.check === 'tcp-fallback'))}`);
  assert.equal(f.severity, 'high');
});

test('nothing listening: unreachable, exit code 3, no other check runs', async () => {
  const r = await runAudit(networkClient({ address: HOST, port: 15619 }, 300), options(15619, { timeout: 300 }));
  assert.equal(r.reachable, false);
  assert.equal(r.exitCode, 3);
  assert.deepEqual([...ids(r)], ['unreachable']);
  assert.ok(r.probes <= 4);
});

test('a probe name inside the served zone is reported as untestable, not as open recursion', async () => {
  const r = await audit(careless(15616), { probeName: Name.parse('ns1.audit.test.') });
  assert.ok(!ids(r).has('open-recursion'));
  assert.equal(r.checks.find((c) => c.check === 'open-recursion')?.status, 'skipped');
});
