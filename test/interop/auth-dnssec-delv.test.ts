// Authenticated denial from Portcullis itself (RFC 4035 §3.1.3, RFC 5155 §7.2): a zone signed by
// our signer (NSEC and NSEC3) is served pre-signed by `portcullis serve`, and BIND's `delv`,
// given only the zone's trust anchor, must validate what the answer engine sends: positive
// answers, NXDOMAIN, NODATA (at a name, at an empty non-terminal, DS at an insecure cut),
// wildcard answers (also a wildcard CNAME) and wildcard NODATA, and a referral to an insecure
// child. delv checks every RRSIG and NSEC/NSEC3 proof itself, so a missing or wrong proof fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RRType } from '../../src/wire/index.js';
import { generateZoneKey } from '../../src/dnssec/keys.js';
import { DEFAULT_POLICY, signZone, type SigningPolicy } from '../../src/dnssec/signer.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { printZone } from '../../src/zone/printer.js';
import { findBinary, query, requirePeer, requirePortcullis, startPortcullis } from './harness/index.js';
import { ORIGIN, ZONE_TEXT } from '../unit/dnssec-fixture.js';

// This file owns 127.0.0.4 ports 15460-15469. The delegations' glue points at loopback too,
// so nothing delv might follow leaves the machine.
const ADDRESS = '127.0.0.4';
const PORT = 15460;

const zoneText = `${ZONE_TEXT.replace(/192\.0\.2\.5\b/, '127.0.0.5').replace(/192\.0\.2\.6\b/, '127.0.0.6')}
*.cw         CNAME www
`;

const CASES: Array<[string, string, RegExp, string]> = [
  ['www.example.test', 'A', /; fully validated[\s\S]*192\.0\.2\.3/, 'positive answer'],
  ['nope.example.test', 'A', /; negative response, fully validated[\s\S]*NXDOMAIN|NXDOMAIN[\s\S]*; negative response, fully validated|; negative response, fully validated/, 'NXDOMAIN'],
  ['x.c.ent.example.test', 'A', /; negative response, fully validated/, 'NXDOMAIN below an empty non-terminal'],
  ['www.example.test', 'MX', /; negative response, fully validated/, 'NODATA'],
  ['ent.example.test', 'A', /; negative response, fully validated/, 'NODATA at an empty non-terminal'],
  ['foo.wild.example.test', 'TXT', /; fully validated[\s\S]*"wild"/, 'wildcard answer'],
  ['a.b.wild.example.test', 'MX', /; fully validated[\s\S]*MX\s+10 mail/, 'wildcard answer two labels down'],
  ['foo.wild.example.test', 'AAAA', /; negative response, fully validated/, 'wildcard NODATA'],
  ['x.cw.example.test', 'A', /; fully validated[\s\S]*192\.0\.2\.3/, 'CNAME synthesized from a wildcard'],
  ['secure.example.test', 'DS', /; fully validated/, 'DS at a secure cut'],
  ['insecure.example.test', 'DS', /; negative response, fully validated/, 'no DS at an insecure cut'],
];

const POLICIES: Array<[string, SigningPolicy]> = [
  ['NSEC', { ...DEFAULT_POLICY, denial: 'nsec' }],
  ['NSEC3', { ...DEFAULT_POLICY, denial: 'nsec3' }],
  ['NSEC3 opt-out', { ...DEFAULT_POLICY, denial: 'nsec3', nsec3OptOut: true }],
];

test('delv validates denial proofs served by Portcullis (NXDOMAIN, NODATA, wildcards, insecure referral; NSEC, NSEC3, opt-out)', { skip: requirePortcullis() || requirePeer('delv') }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-auth-delv-'));
  let validated = 0;
  try {
    for (const [label, policy] of POLICIES) {
      const now = Math.floor(Date.now() / 1000);
      const csk = generateZoneKey(ORIGIN, 13, true, now - 3600);
      const signed = signZone(ORIGIN, parseZoneText(zoneText, { origin: ORIGIN }), policy, [csk], now);
      const server = await startPortcullis({ address: ADDRESS, port: PORT, zones: [{ name: 'example.test', text: printZone(signed, { origin: ORIGIN }) }] });
      try {
        const d = csk.dnskey;
        const anchors = join(dir, 'anchors.conf');
        writeFileSync(anchors, `trust-anchors { "example.test." static-key ${d.flags} ${d.protocol} ${d.algorithm} "${Buffer.from(d.publicKey).toString('base64')}"; };\n`);
        const delv = (name: string, type: string): string => {
          const r = spawnSync(findBinary('delv')!, ['-a', anchors, '+root=example.test', `@${ADDRESS}`, '-p', String(PORT), name, type], { encoding: 'utf8', timeout: 30_000 });
          return `${r.stdout ?? ''}${r.stderr ?? ''}`;
        };
        for (const [name, type, expected, what] of CASES) {
          // With opt-out, an NSEC3 span may hide an unsigned delegation, so BIND's validator
          // takes an answer whose wildcard proof rests on an opt-out NSEC3 as insecure
          // (RFC 5155 §9.2): signed and proven, yet "unsigned answer". A missing or broken
          // proof would fail validation instead.
          const expect = policy.nsec3OptOut && what.includes('wildcard') && !what.includes('NODATA') ? /; unsigned answer/ : expected;
          const out = delv(name, type);
          assert.match(out, expect, `${label} ${what} (${name} ${type}):\n${out}`);
          validated++;
        }
        // The referral itself: NS of the insecure cut and, with DO, the NSEC/NSEC3 proof that
        // there is no DS (RFC 4035 §3.1.4, RFC 5155 §7.2.7) and no DS record; delv then
        // validates that proof as the insecure delegation (the DS question above).
        const ref = await query({ address: ADDRESS, port: PORT }, 'host.insecure.example.test', 'A', { do: true });
        assert.equal(ref.message.aa, false, `${label}: referral`);
        const types = new Set(ref.message.authority.map((r) => r.type));
        assert.ok(types.has(RRType.NS) && !types.has(RRType.DS), `${label}: NS and no DS`);
        assert.ok(types.has(policy.denial === 'nsec' ? RRType.NSEC : RRType.NSEC3) && types.has(RRType.RRSIG), `${label}: the signed proof of no DS`);
        const sref = await query({ address: ADDRESS, port: PORT }, 'host.secure.example.test', 'A', { do: true });
        assert.ok(sref.message.authority.some((r) => r.type === RRType.DS), `${label}: a secure referral carries the DS`);
        t.diagnostic(`${label}: ${CASES.length} answers validated by delv, referrals checked`);
      } finally {
        await server.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(validated, CASES.length * POLICIES.length);
});
