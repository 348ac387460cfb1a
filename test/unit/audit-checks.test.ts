import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkClient, runAudit, type AuditOptions, type AuditReport, type FindingId } from '../../src/audit/index.js';
import { startFakeServer, type FakeServerOptions } from '../../src/audit/fake-server.js';
import { generateSigningKey } from '../../src/dnssec/crypto.js';
import { makeDs } from '../../src/dnssec/ds.js';
import { dnskeyOf, signRrset } from '../../src/dnssec/sign.js';
import { Algorithm } from '../../src/dnssec/types.js';
import { Name, recordFromText, RRClass, RRType, type ResourceRecord } from '../../src/wire/index.js';

// Fake servers on 127.0.0.20, ports 15610-15629 (this file's share of the audit's range).
const HOST = '127.0.0.20';
const zone = Name.parse('audit.test.');
const probe = Name.parse('www.probe.test.');

// One real zone key (ECDSA P-256): the DNSSEC check verifies signatures cryptographically.
const zoneKey = generateSigningKey(Algorithm.ECDSAP256SHA256);
const zoneDnskey = dnskeyOf(zoneKey, true);

type Signed = 'valid' | 'expired' | 'tampered';

function zoneRecords(opts: { signed?: Signed; ds?: 'match' | 'wrong' } = {}): ResourceRecord[] {
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
    const now = Math.floor(Date.now() / 1000);
    const [inception, expiration] = opts.signed === 'expired' ? [now - 86400 * 60, now - 86400 * 30] : [now - 86400, now + 86400 * 30];
    const keyRr: ResourceRecord = { name: zone, type: RRType.DNSKEY, class: RRClass.IN, ttl: 300, data: zoneDnskey };
    const p = { signer: zone, key: zoneKey, dnskey: zoneDnskey, inception, expiration };
    let soaSig = signRrset([rrs[0]!], p);
    if (opts.signed === 'tampered') {
      // A deliberately broken signature: right key tag, right window, one bit flipped.
      const sig = Uint8Array.from(soaSig.data.signature);
      sig[5]! ^= 0x01;
      soaSig = { ...soaSig, data: { ...soaSig.data, signature: sig } };
    }
    rrs.push(keyRr, signRrset([keyRr], p), soaSig);
  }
  if (opts.ds) {
    // The fake server answers DS at the apex as a parent would (only the target is reachable).
    const other = dnskeyOf(generateSigningKey(Algorithm.ECDSAP256SHA256), true);
    rrs.push({ name: zone, type: RRType.DS, class: RRClass.IN, ttl: 300, data: makeDs(zone, opts.ds === 'match' ? zoneDnskey : other) });
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

test('hardened server: no high finding, rate limit and cookies seen, DNSSEC signatures verify', async (t) => {
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

test('a signature that does not verify is dnssec-broken, though tag and validity window are fine', async () => {
  const r = await audit({ ...hardened(16010), records: zoneRecords({ signed: 'tampered' }) });
  const f = find(r, 'dnssec-broken');
  assert.ok(f, 'dnssec-broken missing');
  assert.match(f.evidence, /SOA RRSIG does not validate: tag \d+: signature does not verify/);
  assert.doesNotMatch(f.evidence, /DNSKEY RRSIG/, 'the DNSKEY signature is good');
});

test('DS at the parent: matching DS passes (dsMatches), a DS for another key is dnssec-broken', async () => {
  const good = await audit({ ...hardened(16011), records: zoneRecords({ signed: 'valid', ds: 'match' }) });
  assert.ok(!ids(good).has('dnssec-broken'), find(good, 'dnssec-broken')?.evidence);
  assert.match(good.checks.find((c) => c.check === 'dnssec')!.detail, /DNSKEY signed by \d+; SOA signed by \d+; DS \d+ at the parent matches/);
  const bad = await audit({ ...hardened(16012), records: zoneRecords({ signed: 'valid', ds: 'wrong' }) });
  assert.match(find(bad, 'dnssec-broken')?.evidence ?? '', /DS at the parent \(tags \d+\) matches no DNSKEY/);
  // Without a DS answer from the parent's side the DS is not judged.
  const none = await audit(hardened(16013));
  assert.match(none.checks.find((c) => c.check === 'dnssec')!.detail, /DS not checked/);
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
