import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  amplificationSeverity, exitCodeFor, FINDING_IDS, firewallRules, formatJson, formatMarkdown, formatText, parseCidr, remediationFor,
  type AuditReport, type Finding,
} from '../../src/audit/index.js';
import { keyTag, parseRrsig } from '../../src/audit/checks/dnssec.js';
import { Name } from '../../src/wire/index.js';

test('every finding id has advice for every server', () => {
  for (const id of FINDING_IDS) {
    const r = remediationFor(id, [], 53);
    for (const k of ['summary', 'portcullis', 'bind', 'unbound', 'nsd', 'knot', 'powerdns', 'dnsmasq'] as const) {
      assert.ok(r[k].trim().length > 0, `${id}: empty ${k}`);
    }
  }
});

test('firewall rules allow the given networks on the audited port, then drop', () => {
  const fw = firewallRules(['10.1.0.0/16', '2001:db8:1::/48', '192.0.2.7'], 5353);
  const ipt = fw.iptables.split('\n');
  assert.ok(ipt.includes('iptables -A INPUT -p udp --dport 5353 -s 10.1.0.0/16 -j ACCEPT'));
  assert.ok(ipt.includes('ip6tables -A INPUT -p tcp --dport 5353 -s 2001:db8:1::/48 -j ACCEPT'));
  assert.ok(ipt.includes('iptables -A INPUT -p tcp --dport 5353 -s 192.0.2.7/32 -j ACCEPT'));
  // Accepts come before the drops or nothing would get through.
  const lastAccept = ipt.map((l) => l.endsWith('ACCEPT')).lastIndexOf(true);
  const firstDrop = ipt.findIndex((l) => l.endsWith('DROP'));
  assert.ok(lastAccept < firstDrop);
  assert.match(fw.nftables, /ip saddr \{ 10\.1\.0\.0\/16, 192\.0\.2\.7\/32 \} meta l4proto \{ udp, tcp \} th dport 5353 accept/);
  assert.match(fw.nftables, /ip6 saddr \{ 2001:db8:1::\/48 \}/);
  assert.match(fw.ufw, /ufw allow proto udp from 10\.1\.0\.0\/16 to any port 5353/);
  const tcpOnly = firewallRules(['10.0.0.0/8'], 53, true);
  assert.doesNotMatch(tcpOnly.iptables, /-p udp/);
  assert.match(firewallRules([], 53).iptables, /^# no --allow given/);
});

test('parseCidr rejects what is not a network', () => {
  for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.0/8/1', '::1/129', '', '10.0.0.0/x']) assert.throws(() => parseCidr(bad), RangeError, bad);
  assert.deepEqual(parseCidr('::1'), { text: '::1/128', family: 6 });
});

test('exit code is the worst severity; unreachable is 3', () => {
  const f = (severity: Finding['severity']): Finding => ({ id: 'udp-open', severity, title: '', evidence: '', remediation: remediationFor('udp-open', [], 53) });
  assert.equal(exitCodeFor([], true), 0);
  assert.equal(exitCodeFor([f('info')], true), 0);
  assert.equal(exitCodeFor([f('info'), f('warning')], true), 1);
  assert.equal(exitCodeFor([f('high'), f('warning')], true), 2);
  assert.equal(exitCodeFor([], false), 3);
});

test('amplification severity falls with rate limiting', () => {
  assert.equal(amplificationSeverity(30, false), 'high');
  assert.equal(amplificationSeverity(30, true), 'warning');
  assert.equal(amplificationSeverity(5, false), 'warning');
  assert.equal(amplificationSeverity(5, true), 'info');
  assert.equal(amplificationSeverity(2, false), 'info');
});

const sample: AuditReport = {
  target: '192.0.2.53', port: 53, reachable: true, probes: 12, exitCode: 2,
  findings: [
    { id: 'open-recursion', severity: 'high', title: 'Open resolver | test', evidence: 'www.probe.test. A: NOERROR', remediation: remediationFor('open-recursion', ['10.0.0.0/8'], 53) },
    { id: 'no-cookies', severity: 'info', title: 'No DNS cookies', evidence: 'none', remediation: remediationFor('no-cookies', [], 53) },
  ],
  checks: [{ check: 'cache-snooping', status: 'pass', detail: 'REFUSED' }],
};

test('text, markdown and JSON carry the findings, grouped by severity', () => {
  const text = formatText(sample);
  assert.ok(text.indexOf('HIGH') < text.indexOf('INFO'));
  assert.match(text, /open-recursion\s+Open resolver/);
  assert.match(text, /CHECKED WITHOUT FINDING\n\s+cache-snooping\s+pass/);
  const md = formatMarkdown(sample);
  assert.match(md, /\| high \| `open-recursion` \| Open resolver \\\| test \|/);
  assert.match(md, /<summary>BIND \(named.conf\)<\/summary>/);
  assert.match(md, /iptables -A INPUT -p udp --dport 53 -s 10\.0\.0\.0\/8 -j ACCEPT/);
  const json = JSON.parse(formatJson(sample));
  assert.equal(json.target, '192.0.2.53');
  assert.deepEqual(json.findings.map((f: Finding) => [f.id, f.severity]), [['open-recursion', 'high'], ['no-cookies', 'info']]);
  assert.equal(typeof json.findings[0].remediation.unbound, 'string');
});

function conformanceDir(): string {
  return process.env.PORTCULLIS_CONFORMANCE ?? resolve(process.cwd(), '../shared/conformance');
}

test('key tags and RRSIG fields match the RFC 5702/6605/8080 vectors', (t) => {
  const file = join(conformanceDir(), 'rfc-vectors/dnssec-and-cookie-vectors.json');
  if (!existsSync(file)) {
    t.skip(`conformance data not found at ${file}`);
    return;
  }
  const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  let checked = 0;
  for (const group of ['rfc5702', 'rfc6605', 'rfc8080'] as const) {
    for (const v of data[group] as { dnskey: string; key_tag: number; rrsig: string }[]) {
      const [, , , , flags, proto, alg, ...b64] = v.dnskey.split(/\s+/);
      const key = Buffer.concat([Buffer.from([Number(flags) >> 8, Number(flags) & 0xff, Number(proto), Number(alg)]), Buffer.from(b64.join(''), 'base64')]);
      assert.equal(keyTag(key), v.key_tag, v.dnskey);
      // RRSIG presentation: owner ttl class RRSIG covered alg labels origttl exp inc tag signer sig
      const f = v.rrsig.split(/\s+/);
      const signer = Name.parse(f[11]!).toWire();
      // RFC 4034 §3.2: YYYYMMDDHHmmSS, or plain seconds since the epoch.
      const ts = (s: string): number => s.length !== 14 ? Number(s) : Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8), +s.slice(8, 10), +s.slice(10, 12), +s.slice(12, 14)) / 1000;
      const fixed = Buffer.alloc(18);
      fixed.writeUInt16BE(1, 0);
      fixed[2] = Number(f[5]);
      fixed[3] = Number(f[6]);
      fixed.writeUInt32BE(Number(f[7]), 4);
      fixed.writeUInt32BE(ts(f[8]!), 8);
      fixed.writeUInt32BE(ts(f[9]!), 12);
      fixed.writeUInt16BE(Number(f[10]), 16);
      const parsed = parseRrsig(Buffer.concat([fixed, signer, Buffer.from(f.slice(12).join(''), 'base64')]));
      assert.equal(parsed.keyTag, v.key_tag);
      assert.equal(parsed.signer.toString(), Name.parse(f[11]!).toString());
      assert.equal(parsed.expiration, ts(f[8]!));
      checked++;
    }
  }
  t.diagnostic(`${checked} DNSKEY/RRSIG vectors checked`);
  assert.ok(checked >= 3);
});
