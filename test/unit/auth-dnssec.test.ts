// DNSSEC answers from the answer engine (RFC 4035 §3.1, RFC 5155 §7.2): lookup() with DO on
// zones signed by our signer, NSEC and NSEC3 (plain, salted, opt-out). For each kind of answer
// the authority section must carry the proof denialProof() gives, the negative SOA with its
// RRSIG, the DS (signed) or the proof of its absence at a referral, and nothing twice. Every
// RRSIG in every response is checked with our verifyRrsig, and what the NSEC/NSEC3 records
// prove is checked here independently of denial.ts (match or cover of the names RFC 4035
// §3.1.3 and RFC 5155 §7.2 ask for).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Name, recordFromText, recordToText, RRType, Rcode, type ResourceRecord } from '../../src/wire/index.js';
import { buildZone, type Zone } from '../../src/zone/zone.js';
import { generateZoneKey } from '../../src/dnssec/keys.js';
import { DEFAULT_POLICY, signZone, type SigningPolicy } from '../../src/dnssec/signer.js';
import { denialProof, type DenialKind } from '../../src/dnssec/denial.js';
import { base32hex, nsec3Hash } from '../../src/dnssec/nsec3.js';
import type { Nsec3Data, NsecData } from '../../src/dnssec/types.js';
import { lookup, type Answer } from '../../src/authoritative/lookup.js';
import { ZoneSet } from '../../src/authoritative/zone-set.js';
import { fixtureRecords, ORIGIN, verifyAll } from './dnssec-fixture.js';

const NOW = Math.floor(Date.now() / 1000);
const csk = generateZoneKey(ORIGIN, 13, true, NOW - 86400);
const n = (s: string): Name => Name.parse(s.endsWith('.') ? s : `${s}.example.test.`);

/** The shared fixture plus a wildcard CNAME, so CNAMEs synthesized from a wildcard are covered. */
function records(): ResourceRecord[] {
  // www also gets a TXT with a shorter TTL: RRSIGs at one owner keep their own TTLs.
  return [...fixtureRecords(), recordFromText('*.cw 3600 IN CNAME www', ORIGIN), recordFromText('www 300 IN TXT "short"', ORIGIN)];
}

function signed(policy: SigningPolicy): { zone: Zone; keys: ResourceRecord[] } {
  const recs = signZone(ORIGIN, records(), policy, [csk], NOW);
  const zone = buildZone(ORIGIN, recs);
  return { zone, keys: recs.filter((r) => r.name.equals(ORIGIN) && r.type === RRType.DNSKEY) };
}

type Need = { match: string } | { cover: string };

interface Case {
  readonly q: string;
  readonly type: number;
  readonly rcode: number;
  readonly kind: Answer['kind'];
  /** The proof lookup must add (undefined: none), and what it must show for NSEC and NSEC3. */
  readonly proof?: { kind: DenialKind; nsec: Need[]; nsec3: Need[] };
  /** The DS set goes into authority (a secure referral). */
  readonly ds?: boolean;
  readonly wildcard?: boolean;
}

const APEX = 'example.test.';
const CASES: Case[] = [
  { q: 'nope', type: RRType.A, rcode: Rcode.NXDOMAIN, kind: 'nxdomain', proof: { kind: 'nxdomain', nsec: [{ cover: 'nope' }, { cover: '*' }], nsec3: [{ match: APEX }, { cover: 'nope' }, { cover: '*' }] } },
  { q: 'x.c.ent', type: RRType.A, rcode: Rcode.NXDOMAIN, kind: 'nxdomain', proof: { kind: 'nxdomain', nsec: [{ cover: 'x.c.ent' }, { cover: '*.c.ent' }], nsec3: [{ match: 'c.ent' }, { cover: 'x.c.ent' }, { cover: '*.c.ent' }] } },
  { q: 'www', type: RRType.MX, rcode: Rcode.NOERROR, kind: 'nodata', proof: { kind: 'nodata', nsec: [{ match: 'www' }], nsec3: [{ match: 'www' }] } },
  { q: 'ent', type: RRType.A, rcode: Rcode.NOERROR, kind: 'nodata', proof: { kind: 'nodata', nsec: [{ cover: 'ent' }], nsec3: [{ match: 'ent' }] } },
  { q: 'insecure', type: RRType.DS, rcode: Rcode.NOERROR, kind: 'nodata', proof: { kind: 'nodata', nsec: [{ match: 'insecure' }], nsec3: [{ match: 'insecure' }] } },
  { q: 'foo.wild', type: RRType.TXT, rcode: Rcode.NOERROR, kind: 'answer', wildcard: true, proof: { kind: 'wildcard-answer', nsec: [{ cover: 'foo.wild' }], nsec3: [{ cover: 'foo.wild' }] } },
  { q: 'a.foo.wild', type: RRType.MX, rcode: Rcode.NOERROR, kind: 'answer', wildcard: true, proof: { kind: 'wildcard-answer', nsec: [{ cover: 'a.foo.wild' }], nsec3: [{ cover: 'foo.wild' }] } },
  { q: 'foo.wild', type: RRType.AAAA, rcode: Rcode.NOERROR, kind: 'nodata', wildcard: true, proof: { kind: 'wildcard-nodata', nsec: [{ cover: 'foo.wild' }, { match: '*.wild' }], nsec3: [{ match: 'wild' }, { cover: 'foo.wild' }, { match: '*.wild' }] } },
  { q: 'foo.wild', type: RRType.ANY, rcode: Rcode.NOERROR, kind: 'answer', wildcard: true, proof: { kind: 'wildcard-answer', nsec: [{ cover: 'foo.wild' }], nsec3: [{ cover: 'foo.wild' }] } },
  // A CNAME synthesized from *.cw: the wildcard proof, then www's A (no proof of its own).
  { q: 'x.cw', type: RRType.A, rcode: Rcode.NOERROR, kind: 'answer', wildcard: true, proof: { kind: 'wildcard-answer', nsec: [{ cover: 'x.cw' }], nsec3: [{ cover: 'x.cw' }] } },
  { q: 'host.insecure', type: RRType.A, rcode: Rcode.NOERROR, kind: 'referral', proof: { kind: 'referral', nsec: [{ match: 'insecure' }], nsec3: [{ match: 'insecure' }] } },
  { q: 'insecure', type: RRType.NS, rcode: Rcode.NOERROR, kind: 'referral', proof: { kind: 'referral', nsec: [{ match: 'insecure' }], nsec3: [{ match: 'insecure' }] } },
  { q: 'host.secure', type: RRType.A, rcode: Rcode.NOERROR, kind: 'referral', ds: true },
  { q: 'www', type: RRType.A, rcode: Rcode.NOERROR, kind: 'answer' },
  { q: 'www', type: RRType.TXT, rcode: Rcode.NOERROR, kind: 'answer' },
  { q: 'alias', type: RRType.A, rcode: Rcode.NOERROR, kind: 'answer' },
  { q: 'x.dn', type: RRType.A, rcode: Rcode.NOERROR, kind: 'cname' },
];

function nsecCovers(rr: ResourceRecord, name: Name): boolean {
  const next = (rr.data as NsecData).next;
  if (rr.name.compare(name) >= 0) return false;
  return next.equals(ORIGIN) ? true : name.compare(next) < 0;
}

function nsec3Covers(rr: ResourceRecord, hash: string): boolean {
  const own = rr.name.lowerLabels[0]!;
  const next = base32hex((rr.data as Nsec3Data).nextHashed);
  return own < next ? own < hash && hash < next : own < hash || hash < next;
}

const lines = (rrs: readonly ResourceRecord[]): string[] => rrs.map((r) => recordToText(r)).sort();

function checkCase(zone: Zone, keys: ResourceRecord[], c: Case, policy: SigningPolicy): number {
  const label = `${policy.denial}${policy.nsec3OptOut ? ' opt-out' : ''} ${c.q}/${c.type}`;
  const zones = new ZoneSet([zone]);
  const a = lookup(zone, n(c.q), c.type, { do: true, zones });
  assert.equal(a.rcode, c.rcode, `${label}: rcode`);
  assert.equal(a.kind, c.kind, `${label}: kind`);
  assert.equal(a.wildcard, c.wildcard === true, `${label}: wildcard`);
  // Every signature in the response verifies (answer owners rewritten from a wildcard included).
  const all = [...a.answer, ...a.authority, ...a.additional];
  const v = verifyAll([...all, ...keys], ORIGIN, NOW);
  assert.deepEqual(v.failures, [], `${label}: signatures`);
  // Each RRset in the response is signed (glue and the NS of a cut aside).
  for (const rr of [...a.answer, ...a.authority]) {
    if (rr.type === RRType.RRSIG || (c.kind === 'referral' && rr.type === RRType.NS)) continue;
    // RFC 6672 §5.3: the CNAME synthesized from a DNAME is unsigned (the DNAME's RRSIG covers it).
    if (rr.type === RRType.CNAME && a.answer.some((d) => d.type === RRType.DNAME)) continue;
    assert.ok(all.some((s) => s.type === RRType.RRSIG && s.name.equals(rr.name) && (s.data as { typeCovered: number }).typeCovered === rr.type), `${label}: ${recordToText(rr)} unsigned`);
  }
  // RFC 4034 §3: an RRSIG's TTL equals the TTL of the RRset it covers (in the same section).
  for (const section of [a.answer, a.authority, a.additional]) {
    for (const sig of section.filter((r) => r.type === RRType.RRSIG)) {
      const covered = section.find((r) => r.type === (sig.data as { typeCovered: number }).typeCovered && r.name.equals(sig.name));
      if (covered) assert.equal(sig.ttl, covered.ttl, `${label}: TTL of ${recordToText(sig).slice(0, 60)}`);
    }
  }
  const denial = a.authority.filter((r) => r.type === RRType.NSEC || r.type === RRType.NSEC3);
  if (!c.proof) {
    assert.deepEqual(denial, [], `${label}: no proof expected`);
  } else {
    // Exactly what denialProof gives (whose own tests check it against the RFCs) ...
    const expected = denialProof(zone, n(c.q), c.kind === 'referral' ? RRType.DS : c.type, c.proof.kind);
    const proofPart = a.authority.filter((r) => r.type === RRType.NSEC || r.type === RRType.NSEC3 || (r.type === RRType.RRSIG && ([RRType.NSEC, RRType.NSEC3] as number[]).includes((r.data as { typeCovered: number }).typeCovered)));
    assert.deepEqual(lines(proofPart), lines(expected), `${label}: the denialProof records`);
    // ... and, checked here on their own, they prove what the RFC asks for.
    const needs = policy.denial === 'nsec' ? c.proof.nsec : c.proof.nsec3;
    for (const need of needs) {
      let ok: boolean;
      if (policy.denial === 'nsec') {
        ok = 'match' in need ? denial.some((r) => r.name.equals(n(need.match))) : denial.some((r) => nsecCovers(r, n(need.cover)));
      } else {
        const h = base32hex(nsec3Hash(n('match' in need ? need.match : need.cover), policy.nsec3Salt, policy.nsec3Iterations));
        ok = 'match' in need ? denial.some((r) => r.name.lowerLabels[0] === h) : denial.some((r) => nsec3Covers(r, h));
      }
      assert.ok(ok, `${label}: ${JSON.stringify(need)} not proven by ${denial.map((r) => r.name.toString()).join(', ')}`);
    }
    // A matching record for NODATA/referral must not list the type (DS for a referral).
    const absent = c.kind === 'referral' ? RRType.DS : c.type;
    if (c.kind !== 'answer') {
      for (const need of needs) {
        if (!('match' in need) || need.match === APEX) continue;
        const own = policy.denial === 'nsec' ? denial.find((r) => r.name.equals(n(need.match))) : denial.find((r) => r.name.lowerLabels[0] === base32hex(nsec3Hash(n(need.match), policy.nsec3Salt, policy.nsec3Iterations)));
        if (own) assert.ok(!(own.data as NsecData).types.includes(absent), `${label}: type ${absent} in the bitmap of ${own.name}`);
      }
    }
  }
  // Negative answers: the SOA at the negative TTL with its RRSIG at the same TTL (RFC 4035 §2.2).
  if (c.kind === 'nxdomain' || c.kind === 'nodata') {
    const soa = a.authority.filter((r) => r.type === RRType.SOA);
    const soaSig = a.authority.filter((r) => r.type === RRType.RRSIG && (r.data as { typeCovered: number }).typeCovered === RRType.SOA);
    assert.equal(soa.length, 1, `${label}: one SOA`);
    assert.ok(soaSig.length >= 1, `${label}: SOA RRSIG`);
    assert.ok(soaSig.every((s) => s.ttl === soa[0]!.ttl), `${label}: SOA RRSIG TTL = negative TTL`);
  }
  const ds = a.authority.filter((r) => r.type === RRType.DS);
  assert.equal(ds.length > 0, c.ds === true, `${label}: DS in authority`);
  // Nothing twice.
  assert.equal(new Set(lines(a.authority)).size, a.authority.length, `${label}: duplicate authority records`);
  return v.verified;
}

const POLICIES: Array<[string, SigningPolicy]> = [
  ['NSEC', { ...DEFAULT_POLICY, denial: 'nsec' }],
  ['NSEC3', { ...DEFAULT_POLICY }],
  ['NSEC3 salted, 5 iterations', { ...DEFAULT_POLICY, nsec3Salt: Uint8Array.from([0xab, 0xcd]), nsec3Iterations: 5 }],
];

for (const [label, policy] of POLICIES) {
  test(`RFC 4035 §3.1.3 / RFC 5155 §7.2: DO answers carry verified denial proofs (${label})`, (t) => {
    const { zone, keys } = signed(policy);
    assert.ok(zone.signed);
    let verified = 0;
    for (const c of CASES) verified += checkCase(zone, keys, c, policy);
    if (policy.denial === 'nsec3') {
      // RFC 5155 §7.2.8: the owner name of an NSEC3 RR is answered as a name that does not exist.
      const owner = Name.parse(`${base32hex(nsec3Hash(n('www'), policy.nsec3Salt, policy.nsec3Iterations))}.example.test.`);
      assert.ok(zone.getNode(owner), 'the NSEC3 owner is in the tree');
      for (const type of [RRType.A, RRType.NSEC3]) {
        const a = lookup(zone, owner, type, { do: true });
        assert.equal(a.rcode, Rcode.NXDOMAIN, `NSEC3 owner, type ${type}`);
        assert.ok(a.answer.length === 0);
        assert.deepEqual(verifyAll([...a.authority, ...keys], ORIGIN, NOW).failures, []);
        const proof = a.authority.filter((r) => r.type === RRType.NSEC3 || (r.type === RRType.RRSIG && (r.data as { typeCovered: number }).typeCovered === RRType.NSEC3));
        assert.deepEqual(lines(proof), lines(denialProof(zone, owner, type, 'nxdomain')));
      }
    }
    // Full ANY at a wildcard-matched name: the synthesized sets, never the wildcard's NSEC.
    const full = lookup(zone, n('foo.wild'), RRType.ANY, { do: true, anyPolicy: 'full' });
    assert.deepEqual([...new Set(full.answer.filter((r) => r.type !== RRType.RRSIG).map((r) => r.type))].sort(), [RRType.MX, RRType.TXT].sort());
    assert.deepEqual(verifyAll([...full.answer, ...keys], ORIGIN, NOW).failures, []);
    t.diagnostic(`${CASES.length} questions, ${verified} signatures verified`);
    assert.ok(verified >= CASES.length);
  });
}

test('RFC 5155 §7.2.7 NSEC3 opt-out: an insecure referral carries the closest-encloser proof with an opt-out cover', () => {
  const policy: SigningPolicy = { ...DEFAULT_POLICY, nsec3OptOut: true };
  const { zone, keys } = signed(policy);
  const a = lookup(zone, n('host.insecure'), RRType.A, { do: true });
  assert.equal(a.kind, 'referral');
  assert.deepEqual(verifyAll([...a.authority, ...keys], ORIGIN, NOW).failures, []);
  const h = base32hex(nsec3Hash(n('insecure'), policy.nsec3Salt, policy.nsec3Iterations));
  const cover = a.authority.find((r) => r.type === RRType.NSEC3 && nsec3Covers(r, h));
  assert.ok(cover, 'an NSEC3 covers the cut');
  assert.equal((cover.data as Nsec3Data).flags & 1, 1, 'with the opt-out flag');
  assert.deepEqual(lines(a.authority.filter((r) => r.type !== RRType.NS)), lines(denialProof(zone, n('host.insecure'), RRType.DS, 'referral')));
});

test('without DO no proofs, no RRSIGs; an unsigned zone gets none with DO either', () => {
  const { zone } = signed({ ...DEFAULT_POLICY });
  for (const c of CASES) {
    const a = lookup(zone, n(c.q), c.type);
    const types = new Set([...a.answer, ...a.authority, ...a.additional].map((r) => r.type));
    for (const t of [RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.DS]) {
      if (t === RRType.DS && c.type === RRType.DS) continue;
      assert.ok(!types.has(t), `${c.q}/${c.type}: type ${t} without DO`);
    }
  }
  const plain = buildZone(ORIGIN, records());
  assert.ok(!plain.signed);
  for (const c of CASES) {
    const a = lookup(plain, n(c.q), c.type, { do: true });
    assert.ok(!a.authority.some((r) => r.type === RRType.NSEC || r.type === RRType.NSEC3 || r.type === RRType.RRSIG || r.type === RRType.DS), `${c.q}: unsigned zone`);
  }
});

test('DO lookups are deterministic: the same question twice gives the same records', () => {
  const { zone } = signed({ ...DEFAULT_POLICY });
  for (const c of CASES) {
    const a = lookup(zone, n(c.q), c.type, { do: true });
    const b = lookup(zone, n(c.q), c.type, { do: true });
    assert.deepEqual([a.answer, a.authority, a.additional].map(lines), [b.answer, b.authority, b.additional].map(lines));
  }
});
