// Denial proofs on a signed zone (RFC 4035 §3.1.3, RFC 5155 §7.2): for each answer kind, the
// NSEC/NSEC3 records returned must match or cover exactly the names the RFC asks for, carry
// their RRSIGs, and those must verify. Coverage is checked here independently of denial.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Name, RRType, type ResourceRecord } from '../../src/wire/index.js';
import { buildZone } from '../../src/zone/zone.js';
import { generateZoneKey } from '../../src/dnssec/keys.js';
import { DEFAULT_POLICY, signZone, type SigningPolicy } from '../../src/dnssec/signer.js';
import { denialProof, hasDenialChain, type DenialKind } from '../../src/dnssec/denial.js';
import { base32hex, nsec3Hash } from '../../src/dnssec/nsec3.js';
import type { Nsec3Data, NsecData } from '../../src/dnssec/types.js';
import { fixtureRecords, ORIGIN, verifyAll } from './dnssec-fixture.js';

const NOW = 1_750_000_000;
const csk = generateZoneKey(ORIGIN, 13, true, NOW - 86400);
const n = (s: string): Name => Name.parse(s.endsWith('.') ? s : `${s}.example.test.`);

type Need = { match: string } | { cover: string };

function signedZone(policy: SigningPolicy) {
  const records = signZone(ORIGIN, fixtureRecords(), policy, [csk], NOW);
  return { records, zone: buildZone(ORIGIN, records) };
}

// ---- NSEC ----

function nsecCovers(rr: ResourceRecord, name: Name): boolean {
  const next = (rr.data as NsecData).next;
  if (rr.name.compare(name) >= 0) return false;
  return next.equals(ORIGIN) ? true : name.compare(next) < 0;
}

function checkNsec(proof: ResourceRecord[], needs: Need[], label: string, apexKeys: ResourceRecord[]): void {
  const nsecs = proof.filter((r) => r.type === RRType.NSEC);
  for (const need of needs) {
    const ok = 'match' in need ? nsecs.some((r) => r.name.equals(n(need.match))) : nsecs.some((r) => nsecCovers(r, n(need.cover)));
    assert.ok(ok, `${label}: ${JSON.stringify(need)} not proven by ${nsecs.map((r) => r.name.toString()).join(', ')}`);
  }
  assert.ok(nsecs.length <= needs.length, `${label}: ${nsecs.length} NSEC for ${needs.length} needs`);
  assert.equal(proof.filter((r) => r.type === RRType.RRSIG).length, nsecs.length, `${label}: one RRSIG per NSEC`);
  assert.deepEqual(verifyAll([...proof, ...apexKeys], ORIGIN, NOW).failures, [], label);
}

test('NSEC proofs: NXDOMAIN, NODATA (names, ENTs, DS at a cut), wildcard answers and NODATA, insecure referrals', () => {
  const { records, zone } = signedZone({ ...DEFAULT_POLICY, denial: 'nsec' });
  assert.ok(hasDenialChain(zone));
  const apexKeys = records.filter((r) => r.name.equals(ORIGIN) && (r.type === RRType.DNSKEY));
  const cases: Array<[string, number, DenialKind, Need[]]> = [
    ['nope', RRType.A, 'nxdomain', [{ cover: 'nope' }, { cover: '*' }]],
    ['x.c.ent', RRType.A, 'nxdomain', [{ cover: 'x.c.ent' }, { cover: '*.c.ent' }]],
    ['zzz', RRType.A, 'nxdomain', [{ cover: 'zzz' }, { cover: '*' }]],
    ['www', RRType.MX, 'nodata', [{ match: 'www' }]],
    ['ent', RRType.A, 'nodata', [{ cover: 'ent' }]],
    ['insecure', RRType.DS, 'nodata', [{ match: 'insecure' }]],
    ['foo.wild', RRType.TXT, 'wildcard-answer', [{ cover: 'foo.wild' }]],
    ['foo.wild', RRType.AAAA, 'wildcard-nodata', [{ cover: 'foo.wild' }, { match: '*.wild' }]],
    ['host.insecure', RRType.A, 'referral', [{ match: 'insecure' }]],
  ];
  for (const [q, type, kind, needs] of cases) {
    const proof = denialProof(zone, n(q), type, kind);
    checkNsec(proof, needs, `${q}/${kind}`, apexKeys);
    if (kind === 'nodata' || kind === 'wildcard-nodata' || kind === 'referral') {
      const matching = proof.find((r) => r.type === RRType.NSEC && 'match' in needs[needs.length - 1]! && r.name.equals(n((needs[needs.length - 1] as { match: string }).match)));
      if (matching) assert.ok(!(matching.data as NsecData).types.includes(kind === 'referral' ? RRType.DS : type), `${q}: the type is absent from the bitmap`);
    }
  }
  assert.deepEqual(denialProof(zone, Name.parse('outside.test.'), RRType.A, 'nxdomain'), []);
});

// ---- NSEC3 ----

const h = (name: string, p: SigningPolicy): string => base32hex(nsec3Hash(n(name), p.nsec3Salt, p.nsec3Iterations));

function nsec3Covers(rr: ResourceRecord, hash: string): boolean {
  const own = rr.name.lowerLabels[0]!;
  const next = base32hex((rr.data as Nsec3Data).nextHashed);
  return own < next ? own < hash && hash < next : own < hash || hash < next; // the last one wraps
}

function checkNsec3(proof: ResourceRecord[], needs: Need[], p: SigningPolicy, label: string, apexKeys: ResourceRecord[]): void {
  const recs = proof.filter((r) => r.type === RRType.NSEC3);
  for (const need of needs) {
    const ok = 'match' in need ? recs.some((r) => r.name.lowerLabels[0] === h(need.match, p)) : recs.some((r) => nsec3Covers(r, h(need.cover, p)));
    assert.ok(ok, `${label}: ${JSON.stringify(need)} not proven`);
  }
  assert.ok(recs.length >= 1 && recs.length <= needs.length, `${label}: ${recs.length} NSEC3 for ${needs.length} needs`);
  assert.equal(proof.filter((r) => r.type === RRType.RRSIG).length, recs.length, `${label}: one RRSIG per NSEC3`);
  assert.deepEqual(verifyAll([...proof, ...apexKeys], ORIGIN, NOW).failures, [], label);
}

for (const salted of [false, true]) {
  test(`NSEC3 proofs (RFC 5155 §7.2.1-7.2.7)${salted ? ', salt and iterations' : ''}`, () => {
    const p: SigningPolicy = salted ? { ...DEFAULT_POLICY, nsec3Salt: Uint8Array.from([1, 2, 3]), nsec3Iterations: 3 } : { ...DEFAULT_POLICY };
    const { records, zone } = signedZone(p);
    const apexKeys = records.filter((r) => r.name.equals(ORIGIN) && r.type === RRType.DNSKEY);
    const apex = 'example.test.';
    const cases: Array<[string, number, DenialKind, Need[]]> = [
      // §7.2.2: closest encloser matched, next closer covered, wildcard at the encloser covered.
      ['nope', RRType.A, 'nxdomain', [{ match: apex }, { cover: 'nope' }, { cover: '*' }]],
      ['a.b.nope', RRType.A, 'nxdomain', [{ match: apex }, { cover: 'nope' }, { cover: '*' }]],
      ['x.c.ent', RRType.A, 'nxdomain', [{ match: 'c.ent' }, { cover: 'x.c.ent' }, { cover: '*.c.ent' }]],
      // §7.2.3: matching NSEC3 without the type; an ENT has one too.
      ['www', RRType.MX, 'nodata', [{ match: 'www' }]],
      ['ent', RRType.A, 'nodata', [{ match: 'ent' }]],
      ['insecure', RRType.DS, 'nodata', [{ match: 'insecure' }]],
      // §7.2.5: closest encloser proof plus the matching wildcard NSEC3.
      ['foo.wild', RRType.AAAA, 'wildcard-nodata', [{ match: 'wild' }, { cover: 'foo.wild' }, { match: '*.wild' }]],
      // §7.2.6: the next closer name covered.
      ['foo.wild', RRType.TXT, 'wildcard-answer', [{ cover: 'foo.wild' }]],
      ['a.foo.wild', RRType.TXT, 'wildcard-answer', [{ cover: 'foo.wild' }]],
      // §7.2.7: the NSEC3 at the cut, without the DS bit.
      ['host.insecure', RRType.A, 'referral', [{ match: 'insecure' }]],
    ];
    for (const [q, type, kind, needs] of cases) {
      const proof = denialProof(zone, n(q), type, kind);
      checkNsec3(proof, needs, p, `${q}/${kind}`, apexKeys);
      const last = needs[needs.length - 1]!;
      if ((kind === 'nodata' || kind === 'wildcard-nodata' || kind === 'referral') && 'match' in last) {
        const m = proof.find((r) => r.type === RRType.NSEC3 && r.name.lowerLabels[0] === h(last.match, p))!;
        assert.ok(!(m.data as Nsec3Data).types.includes(kind === 'referral' ? RRType.DS : type), `${q}: type absent from the bitmap`);
      }
    }
  });
}

test('NSEC3 opt-out: an insecure referral is proven by the closest provable encloser and an opt-out cover (§7.2.7)', () => {
  const p: SigningPolicy = { ...DEFAULT_POLICY, nsec3OptOut: true };
  const { records, zone } = signedZone(p);
  const apexKeys = records.filter((r) => r.name.equals(ORIGIN) && r.type === RRType.DNSKEY);
  for (const [q, kind] of [['host.insecure', 'referral'], ['insecure', 'nodata']] as const) {
    const proof = denialProof(zone, n(q), RRType.DS, kind);
    checkNsec3(proof, [{ match: 'example.test.' }, { cover: 'insecure' }], p, `${q}/${kind}`, apexKeys);
    const cover = proof.find((r) => r.type === RRType.NSEC3 && nsec3Covers(r, h('insecure', p)))!;
    assert.equal((cover.data as Nsec3Data).flags & 1, 1, 'the covering NSEC3 has the opt-out flag');
  }
});

test('a zone without a chain needs no proofs', () => {
  const zone = buildZone(ORIGIN, fixtureRecords());
  assert.ok(!hasDenialChain(zone));
  assert.deepEqual(denialProof(zone, n('nope'), RRType.A, 'nxdomain'), []);
});
