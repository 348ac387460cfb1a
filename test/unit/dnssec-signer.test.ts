// The zone signer: every authoritative RRset signed and verifiable with our verifyRrsig, nothing
// signed that belongs to a child or is glue, NSEC/NSEC3 chains complete and in order, key
// roles (CSK, KSK/ZSK, pre-published), CDS/CDNSKEY, validity windows, incremental re-signing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Name, RRType, type ResourceRecord } from '../../src/wire/index.js';
import { generateZoneKey, type ZoneKey } from '../../src/dnssec/keys.js';
import { DEFAULT_POLICY, resignChanges, signZone, signZoneDetailed, SigningError, type SigningPolicy } from '../../src/dnssec/signer.js';
import { dsMatches } from '../../src/dnssec/ds.js';
import { keyTag } from '../../src/dnssec/keytag.js';
import { base32hex, nsec3Hash } from '../../src/dnssec/nsec3.js';
import type { DnskeyData, DsData, Nsec3Data, NsecData, RrsigData } from '../../src/dnssec/types.js';
import { AUTHORITATIVE, CUTS, ENTS, fixtureRecords, groupSets, OCCLUDED, ORIGIN, signerTags, tags, verifyAll } from './dnssec-fixture.js';

const NOW = 1_750_000_000;
const nsecPolicy: SigningPolicy = { ...DEFAULT_POLICY, denial: 'nsec' };
const nsec3Policy: SigningPolicy = { ...DEFAULT_POLICY, denial: 'nsec3' };

const keyCache = new Map<string, ZoneKey>();
function key(alg: number, ksk: boolean, n = 0): ZoneKey {
  const id = `${alg}/${ksk}/${n}`;
  let k = keyCache.get(id);
  if (!k) keyCache.set(id, (k = generateZoneKey(ORIGIN, alg, ksk, NOW - 86400, 1024)));
  return k;
}

const ofType = (records: readonly ResourceRecord[], type: number): ResourceRecord[] => records.filter((r) => r.type === type);

for (const alg of [8, 13, 15]) {
  for (const policy of [nsecPolicy, nsec3Policy]) {
    test(`algorithm ${alg}, ${policy.denial}: every signature verifies; cuts, glue and occluded data are not signed`, (t) => {
      const signed = signZone(ORIGIN, fixtureRecords(), policy, [key(alg, true)], NOW);
      const { verified, failures } = verifyAll(signed, ORIGIN, NOW);
      assert.deepEqual(failures, []);
      t.diagnostic(`${verified} signatures verified`);
      const sets = groupSets(signed);
      // Every authoritative RRset has a signature.
      for (const [k] of sets) {
        if (k.startsWith('sig:')) continue;
        const [owner, type] = k.split('/') as [string, string];
        const covered = sets.has(`sig:${k}`);
        const authoritative = AUTHORITATIVE.includes(owner) || owner === ORIGIN.key || (policy.denial === 'nsec3' && +type === RRType.NSEC3);
        if (authoritative) assert.ok(covered, `${k} must be signed`);
        if (OCCLUDED.includes(owner)) assert.ok(!covered, `${k} is glue or occluded and must not be signed`);
        if (CUTS.includes(owner)) assert.equal(covered, +type === RRType.DS || +type === RRType.NSEC, `${k} at a cut: only DS and NSEC are signed`);
      }
      // Signature windows: inception an hour back, expiration within lifetime minus jitter.
      for (const sig of ofType(signed, RRType.RRSIG)) {
        const d = sig.data as RrsigData;
        assert.equal(d.inception, NOW - 3600);
        assert.ok(d.expiration <= NOW + policy.signatureLifetime && d.expiration >= NOW + policy.signatureLifetime - policy.signatureJitter, `${sig.name} expiration`);
        assert.equal(sig.ttl, d.originalTtl);
      }
      // Wildcard signatures carry the labels count without the '*' (RFC 4034 §3.1.3).
      const wildSig = signed.find((r) => r.type === RRType.RRSIG && r.name.key === '*.wild.example.test.')!;
      assert.equal((wildSig.data as RrsigData).labels, 3);
    });
  }
}

test('NSEC chain: one NSEC per authoritative name and cut, in canonical order, closed at the apex, RFC 4035 §2.3 bitmaps', () => {
  const signed = signZone(ORIGIN, fixtureRecords(), nsecPolicy, [key(13, true)], NOW);
  const nsecs = ofType(signed, RRType.NSEC);
  const owners = nsecs.map((r) => r.name);
  const expected = [...AUTHORITATIVE, ...CUTS].map((n) => Name.parse(n)).sort((a, b) => a.compare(b));
  assert.deepEqual(owners.map((n) => n.key).sort(), expected.map((n) => n.key).sort());
  // Follow the chain from the apex: it visits every owner once, in canonical order, and returns.
  const byOwner = new Map(nsecs.map((r) => [r.name.key, r.data as NsecData]));
  let at = ORIGIN;
  const visited: string[] = [];
  for (let i = 0; i < nsecs.length; i++) {
    visited.push(at.key);
    const next = byOwner.get(at.key)!.next;
    if (i < nsecs.length - 1) assert.ok(at.compare(next) < 0, `${at} < ${next}`);
    at = next;
  }
  assert.equal(at.key, ORIGIN.key);
  assert.deepEqual(visited, expected.map((n) => n.key));
  // Bitmaps.
  assert.deepEqual(byOwner.get('secure.example.test.')!.types, [RRType.NS, RRType.DS, RRType.RRSIG, RRType.NSEC]);
  assert.deepEqual(byOwner.get('insecure.example.test.')!.types, [RRType.NS, RRType.RRSIG, RRType.NSEC]);
  assert.deepEqual(byOwner.get('example.test.')!.types, [RRType.NS, RRType.SOA, RRType.MX, RRType.RRSIG, RRType.NSEC, RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY].sort((a, b) => a - b));
  for (const ent of ENTS) assert.ok(!byOwner.has(ent), `ENT ${ent} owns no NSEC`);
  // TTL is min(SOA TTL, MINIMUM) (RFC 9077).
  for (const r of nsecs) assert.equal(r.ttl, 300);
});

test('NSEC3 chain: hashes of every authoritative name, cut and ENT (RFC 5155 §7.1), sorted and closed, NSEC3PARAM at the apex', () => {
  const salt = Uint8Array.from([0xab, 0xcd]);
  const policy: SigningPolicy = { ...nsec3Policy, nsec3Salt: salt, nsec3Iterations: 2 };
  const signed = signZone(ORIGIN, fixtureRecords(), policy, [key(13, true)], NOW);
  const nsec3s = ofType(signed, RRType.NSEC3);
  const names = [...AUTHORITATIVE, ...CUTS, ...ENTS];
  const expected = new Map(names.map((n) => [base32hex(nsec3Hash(Name.parse(n), salt, 2)), n]));
  assert.deepEqual(nsec3s.map((r) => r.name.lowerLabels[0]!).sort(), [...expected.keys()].sort());
  const sorted = [...expected.keys()].sort();
  for (const r of nsec3s) {
    const d = r.data as Nsec3Data;
    const h = r.name.lowerLabels[0]!;
    const i = sorted.indexOf(h);
    assert.equal(base32hex(d.nextHashed), sorted[(i + 1) % sorted.length], `next of ${expected.get(h)}`);
    assert.equal(d.iterations, 2);
    assert.deepEqual([...d.salt], [...salt]);
    assert.equal(d.flags, 0);
    const owner = expected.get(h)!;
    if (ENTS.includes(owner)) assert.deepEqual(d.types, [], `ENT ${owner} has an empty bitmap`);
    if (owner === 'insecure.example.test.') assert.deepEqual(d.types, [RRType.NS], 'an insecure cut has no RRSIG bit');
    if (owner === 'secure.example.test.') assert.deepEqual(d.types, [RRType.NS, RRType.DS, RRType.RRSIG]);
    if (owner === 'example.test.') assert.ok(d.types.includes(RRType.NSEC3PARAM) && d.types.includes(RRType.DNSKEY) && !d.types.includes(RRType.NSEC3));
  }
  const param = ofType(signed, RRType.NSEC3PARAM);
  assert.equal(param.length, 1);
  assert.deepEqual((param[0]!.data as { iterations: number }).iterations, 2);
  assert.equal(ofType(signed, RRType.NSEC).length, 0);
});

test('NSEC3 opt-out leaves the insecure delegation out of the chain and sets the flag', () => {
  const signed = signZone(ORIGIN, fixtureRecords(), { ...nsec3Policy, nsec3OptOut: true }, [key(13, true)], NOW);
  const nsec3s = ofType(signed, RRType.NSEC3);
  const owners = new Set(nsec3s.map((r) => r.name.lowerLabels[0]));
  assert.ok(!owners.has(base32hex(nsec3Hash(Name.parse('insecure.example.test.'), new Uint8Array(0), 0))));
  assert.ok(owners.has(base32hex(nsec3Hash(Name.parse('secure.example.test.'), new Uint8Array(0), 0))));
  for (const r of nsec3s) assert.equal((r.data as Nsec3Data).flags, 1);
  assert.deepEqual(verifyAll(signed, ORIGIN, NOW).failures, []);
});

test('CSK: one key signs everything; DNSKEY, CDS and CDNSKEY describe it', () => {
  const csk = key(13, true);
  const signed = signZone(ORIGIN, fixtureRecords(), nsec3Policy, [csk], NOW);
  assert.deepEqual(signerTags(signed, ORIGIN.key, RRType.DNSKEY), [csk.tag]);
  assert.deepEqual(signerTags(signed, 'www.example.test.', RRType.A), [csk.tag]);
  const dnskeys = ofType(signed, RRType.DNSKEY);
  assert.equal(dnskeys.length, 1);
  assert.equal((dnskeys[0]!.data as DnskeyData).flags, 257);
  assert.equal(dnskeys[0]!.ttl, 3600);
  const cds = ofType(signed, RRType.CDS);
  assert.equal(cds.length, 1);
  assert.ok(dsMatches(ORIGIN, cds[0]!.data as DsData, csk.dnskey));
  assert.equal(ofType(signed, RRType.CDNSKEY).length, 1);
  const noCds = signZone(ORIGIN, fixtureRecords(), { ...nsec3Policy, cds: false }, [csk], NOW);
  assert.equal(ofType(noCds, RRType.CDS).length + ofType(noCds, RRType.CDNSKEY).length, 0);
});

test('KSK/ZSK: the KSK signs the key sets, the ZSK the rest; a pre-published ZSK is in DNSKEY but signs nothing', () => {
  const ksk = key(13, true);
  const zsk = key(13, false);
  const next = { ...key(13, false, 1), timing: { publish: NOW - 10, activate: NOW + 86400 } };
  const signed = signZone(ORIGIN, fixtureRecords(), nsecPolicy, [ksk, zsk, next], NOW);
  assert.deepEqual(signerTags(signed, ORIGIN.key, RRType.DNSKEY), [ksk.tag]);
  assert.deepEqual(signerTags(signed, ORIGIN.key, RRType.CDS), [ksk.tag]);
  assert.deepEqual(signerTags(signed, ORIGIN.key, RRType.SOA), [zsk.tag]);
  assert.deepEqual(signerTags(signed, 'www.example.test.', RRType.NSEC), [zsk.tag]);
  assert.deepEqual(tags(ofType(signed, RRType.DNSKEY).map((r) => ({ tag: keyTagOfRecord(r) }) as ZoneKey)), tags([ksk, zsk, next]));
  // CDS only for the KSK.
  const cds = ofType(signed, RRType.CDS);
  assert.equal(cds.length, 1);
  assert.equal((cds[0]!.data as DsData).keyTag, ksk.tag);
  assert.deepEqual(verifyAll(signed, ORIGIN, NOW).failures, []);
  // Once the successor is active and the old ZSK inactive, the successor signs.
  const later = signZone(ORIGIN, fixtureRecords(), nsecPolicy, [ksk, { ...zsk, timing: { inactive: NOW + 3600 } }, next], NOW + 86400 + 1);
  assert.deepEqual(signerTags(later, 'www.example.test.', RRType.A), [next.tag]);
  assert.ok(ofType(later, RRType.DNSKEY).some((r) => keyTagOfRecord(r) === zsk.tag), 'the retired ZSK stays published until its Delete time');
});

test('two algorithms: each signs every RRset (RFC 4035 §2.2)', () => {
  const signed = signZone(ORIGIN, fixtureRecords(), nsecPolicy, [key(13, true), key(15, true)], NOW);
  const algs = (owner: string, type: number) =>
    signed.filter((r) => r.type === RRType.RRSIG && r.name.key === owner && (r.data as RrsigData).typeCovered === type).map((r) => (r.data as RrsigData).algorithm).sort();
  assert.deepEqual(algs('www.example.test.', RRType.A), [13, 15]);
  assert.deepEqual(algs('example.test.', RRType.DNSKEY), [13, 15]);
  assert.deepEqual(verifyAll(signed, ORIGIN, NOW).failures, []);
});

test('earlier DNSSEC records in the input are replaced, not doubled', () => {
  const once = signZone(ORIGIN, fixtureRecords(), nsecPolicy, [key(13, true)], NOW);
  const twice = signZone(ORIGIN, once, nsecPolicy, [key(13, true)], NOW + 60);
  assert.equal(ofType(twice, RRType.RRSIG).length, ofType(once, RRType.RRSIG).length);
  assert.equal(ofType(twice, RRType.NSEC).length, ofType(once, RRType.NSEC).length);
  assert.equal(ofType(twice, RRType.DNSKEY).length, 1);
  // Switching to NSEC3 drops the NSEC chain.
  const switched = signZone(ORIGIN, once, nsec3Policy, [key(13, true)], NOW + 60);
  assert.equal(ofType(switched, RRType.NSEC).length, 0);
  assert.ok(ofType(switched, RRType.NSEC3).length > 0);
});

test('signing errors: no active key, a key of another zone, no SOA', () => {
  const inactive = { ...key(13, true), timing: { activate: NOW + 100 } };
  assert.throws(() => signZone(ORIGIN, fixtureRecords(), nsecPolicy, [inactive], NOW), SigningError);
  const other = generateZoneKey(Name.parse('other.test.'), 13, true, NOW);
  assert.throws(() => signZone(ORIGIN, fixtureRecords(), nsecPolicy, [key(13, true), other], NOW), /belongs to other\.test\./);
  assert.throws(() => signZone(ORIGIN, fixtureRecords().filter((r) => r.type !== RRType.SOA), nsecPolicy, [key(13, true)], NOW), /no SOA/);
});

test('incremental: an update re-signs the changed RRset, its chain neighbours and nothing else', (t) => {
  for (const policy of [nsecPolicy, nsec3Policy]) {
    const keys = [key(13, true)];
    const first = signZoneDetailed(ORIGIN, fixtureRecords(), policy, keys, NOW);
    const soa = first.records.find((r) => r.type === RRType.SOA)!;
    const added: ResourceRecord = { name: Name.parse('new.example.test.'), type: RRType.A, class: 1, ttl: 3600, data: { address: '192.0.2.77' } };
    const newSoa = { ...soa, data: { ...soa.data, serial: soa.data.serial + 1 } };
    const r = resignChanges(first.records, { added: [added, newSoa], removed: [soa] }, policy, keys, NOW + 600);
    t.diagnostic(`${policy.denial}: ${r.created} created, ${r.reused} reused of ${r.rrsets} RRsets`);
    assert.deepEqual(verifyAll(r.records, ORIGIN, NOW + 600).failures, []);
    // new A + SOA + the new name's NSEC(3) + its predecessor's NSEC(3).
    assert.equal(r.created, 4, `${policy.denial}: signatures created`);
    assert.equal(r.reused, first.created - 2, 'every signature but the old SOA and the changed neighbour is kept');
    assert.ok(r.records.some((x) => x.type === RRType.A && x.name.key === 'new.example.test.'));
    assert.equal((r.records.find((x) => x.type === RRType.SOA)!.data as { serial: number }).serial, soa.data.serial + 1);
    // Removing it again goes back to the first chain.
    const back = resignChanges(r.records, { added: [], removed: [added] }, policy, keys, NOW + 1200);
    assert.equal(ofType(back.records, RRType.NSEC).length + ofType(back.records, RRType.NSEC3).length, ofType(first.records, RRType.NSEC).length + ofType(first.records, RRType.NSEC3).length);
    assert.deepEqual(verifyAll(back.records, ORIGIN, NOW + 1200).failures, []);
  }
});

test('refresh: signatures inside the refresh margin are replaced; refreshAt says when', () => {
  const keys = [key(13, true)];
  const first = signZoneDetailed(ORIGIN, fixtureRecords(), nsecPolicy, keys, NOW);
  const earliest = Math.min(...ofType(first.records, RRType.RRSIG).map((r) => (r.data as RrsigData).expiration));
  assert.equal(first.refreshAt, earliest - nsecPolicy.signatureRefresh);
  const before = signZoneDetailed(ORIGIN, first.records, nsecPolicy, keys, first.refreshAt - 1, { previous: first.records });
  assert.equal(before.created, 0, 'nothing is due yet');
  const after = signZoneDetailed(ORIGIN, first.records, nsecPolicy, keys, first.refreshAt + 1, { previous: first.records });
  assert.ok(after.created >= 1 && after.reused >= 1, `some due (${after.created}), some kept (${after.reused})`);
  const latest = signZoneDetailed(ORIGIN, first.records, nsecPolicy, keys, NOW + nsecPolicy.signatureLifetime, { previous: first.records });
  assert.equal(latest.reused, 0, 'expired signatures are never kept');
  assert.deepEqual(verifyAll(latest.records, ORIGIN, NOW + nsecPolicy.signatureLifetime).failures, []);
});

test('jitter spreads expirations across RRsets', () => {
  const signed = signZone(ORIGIN, fixtureRecords(), nsecPolicy, [key(13, true)], NOW);
  const expirations = new Set(ofType(signed, RRType.RRSIG).map((r) => (r.data as RrsigData).expiration));
  assert.ok(expirations.size > 5, `${expirations.size} distinct expirations`);
});

function keyTagOfRecord(r: ResourceRecord): number {
  return keyTag(r.data as DnskeyData);
}
