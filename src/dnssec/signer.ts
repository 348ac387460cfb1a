import { createHash } from 'node:crypto';
import { encodeRdata, Name, RRType, type ResourceRecord, type SoaData } from '../wire/index.js';
import { buildZone, type RRset, type Zone } from '../zone/zone.js';
import { canonicalRdata, compareBytes } from './canonical.js';
import { makeDs } from './ds.js';
import type { ZoneKey } from './keys.js';
import { nodeRole, nsec3Chain, nsecChain } from './nsec-chain.js';
import { signRrset } from './sign.js';
import { DigestType, type DnskeyData, type RrsigData } from './types.js';

/**
 * Zone signing (RFC 4033-4035, RFC 5155, RFC 7344, RFC 9276): DNSKEY, CDS/CDNSKEY, the NSEC
 * or NSEC3 chain and an RRSIG per authoritative RRset. Pure: the result depends only on the
 * arguments (and the randomness of ECDSA signatures).
 */

export interface SigningPolicy {
  /** NSEC3 (RFC 5155) or NSEC (RFC 4034) denial of existence. */
  denial: 'nsec3' | 'nsec';
  /** RFC 9276 §3.1: extra iterations add cost, not security; 0 is the recommended value. */
  nsec3Iterations: number;
  /** RFC 9276 §3.1: a salt adds nothing; empty is the recommended value. */
  nsec3Salt: Uint8Array;
  /** RFC 5155 §6 opt-out: unsigned delegations stay out of the chain. Off: every name is proven. */
  nsec3OptOut: boolean;
  /** Seconds a new signature is valid for (expiration = now + lifetime - jitter). */
  signatureLifetime: number;
  /** A signature with less than this many seconds left is replaced on the next signing pass. */
  signatureRefresh: number;
  /** Expirations are spread over this many seconds so that re-signing does not come all at once. */
  signatureJitter: number;
  /** Inception lies this far in the past, for validators whose clocks run slow. */
  inceptionOffset: number;
  /** TTL of DNSKEY, CDS and CDNSKEY. */
  dnskeyTtl: number;
  /** Publish CDS/CDNSKEY (RFC 7344, RFC 8078) for the active KSKs/CSKs so the parent can follow. */
  cds: boolean;
  /** Digest types for CDS (RFC 8624: SHA-256 is the one to publish). */
  cdsDigests: number[];
}

export const DEFAULT_POLICY: Readonly<SigningPolicy> = Object.freeze({
  denial: 'nsec3',
  nsec3Iterations: 0,
  nsec3Salt: new Uint8Array(0),
  nsec3OptOut: false,
  signatureLifetime: 14 * 86400,
  signatureRefresh: 5 * 86400,
  signatureJitter: 86400,
  inceptionOffset: 3600,
  dnskeyTtl: 3600,
  cds: true,
  cdsDigests: [DigestType.SHA256],
});

export class SigningError extends Error {
  constructor(origin: Name, reason: string) {
    super(`signing ${origin}: ${reason}`);
    this.name = 'SigningError';
  }
}

/** Types the signer owns: stripped from its input and made again. */
const GENERATED = new Set<number>([RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.NSEC3PARAM]);
const APEX_GENERATED = new Set<number>([RRType.CDS, RRType.CDNSKEY]);

export interface SignOptions {
  /**
   * An earlier signed version of the zone: its RRSIGs are kept for RRsets that did not change
   * and are not due for refresh (incremental signing after an update or a reload).
   */
  previous?: Iterable<ResourceRecord>;
}

export interface SignResult {
  records: ResourceRecord[];
  /** Signatures made in this pass. */
  created: number;
  /** Signatures kept from `previous`. */
  reused: number;
  /** RRsets signed (each by one key per algorithm in use). */
  rrsets: number;
  /** When the next signing pass is due: the earliest expiration minus the refresh margin. */
  refreshAt: number;
  /** The keys that signed, and the keys only published. */
  signingKeys: ZoneKey[];
  publishedKeys: ZoneKey[];
}

const isPublished = (k: ZoneKey, now: number): boolean =>
  (k.timing.publish === undefined || k.timing.publish <= now) && (k.timing.delete === undefined || k.timing.delete > now);
const isActive = (k: ZoneKey, now: number): boolean =>
  isPublished(k, now) && (k.timing.activate === undefined || k.timing.activate <= now) && (k.timing.inactive === undefined || k.timing.inactive > now);
const isSyncPublished = (k: ZoneKey, now: number): boolean =>
  k.ksk && isActive(k, now) && (k.timing.syncPublish === undefined || k.timing.syncPublish <= now) && (k.timing.syncDelete === undefined || k.timing.syncDelete > now);

/** Signs a zone; see `signZoneDetailed` for the counts. */
export function signZone(origin: Name, records: Iterable<ResourceRecord>, policy: SigningPolicy, keys: readonly ZoneKey[], now: number, opts: SignOptions = {}): ResourceRecord[] {
  return signZoneDetailed(origin, records, policy, keys, now, opts).records;
}

/**
 * Signs `records` (the zone's data; earlier DNSSEC records in it are replaced) with `keys`
 * at time `now` (seconds). Published keys go into the DNSKEY set; active keys sign: KSKs the
 * DNSKEY/CDS/CDNSKEY sets, ZSKs the rest, and a KSK with no ZSK of its algorithm signs
 * everything (a combined signing key). Every algorithm with an active key signs every RRset
 * (RFC 4035 §2.2). Foreign DNSKEYs already in the zone (multi-signer) are kept.
 */
export function signZoneDetailed(origin: Name, records: Iterable<ResourceRecord>, policy: SigningPolicy, keys: readonly ZoneKey[], now: number, opts: SignOptions = {}): SignResult {
  now = Math.floor(now);
  const published = keys.filter((k) => isPublished(k, now));
  const active = published.filter((k) => isActive(k, now));
  if (active.length === 0) throw new SigningError(origin, 'no active key (generate one with `portcullis dnssec keygen`)');
  for (const k of keys) if (!k.zone.equals(origin)) throw new SigningError(origin, `key ${k.base} belongs to ${k.zone}`);

  // ---- the zone's data, without what we generate ----
  const ours = new Set(published.map((k) => keyId(k.dnskey)));
  const input: ResourceRecord[] = [];
  let soa: ResourceRecord<SoaData> | undefined;
  for (const rr of records) {
    if (GENERATED.has(rr.type)) continue;
    const atApex = rr.name.equals(origin);
    if (atApex && APEX_GENERATED.has(rr.type) && policy.cds) continue;
    if (atApex && rr.type === RRType.DNSKEY) {
      if (rr.data instanceof Uint8Array) continue;
      // Our keys come back with our TTL and flags; keys that are ours but no longer published leave.
      const id = keyId(rr.data as DnskeyData);
      if (ours.has(id) || keys.some((k) => keyId(k.dnskey) === id)) continue;
    }
    if (atApex && rr.type === RRType.SOA) soa = rr as ResourceRecord<SoaData>;
    input.push(rr);
  }
  if (!soa) throw new SigningError(origin, 'no SOA record at the apex');
  const cls = soa.class;
  // RFC 9077 / RFC 4034 §4: the negative-caching TTL, min(SOA TTL, SOA MINIMUM).
  const denialTtl = Math.min(soa.ttl, soa.data.minimum);

  for (const k of published) input.push({ name: origin, type: RRType.DNSKEY, class: cls, ttl: policy.dnskeyTtl, data: k.dnskey });
  if (policy.cds) {
    for (const k of published) {
      if (!isSyncPublished(k, now)) continue;
      for (const dt of policy.cdsDigests) input.push({ name: origin, type: RRType.CDS, class: cls, ttl: policy.dnskeyTtl, data: makeDs(origin, k.dnskey, dt) });
      input.push({ name: origin, type: RRType.CDNSKEY, class: cls, ttl: policy.dnskeyTtl, data: k.dnskey });
    }
  }
  if (policy.denial === 'nsec3') {
    input.push({
      name: origin, type: RRType.NSEC3PARAM, class: cls, ttl: 0,
      // The flags field of NSEC3PARAM is always 0 (RFC 5155 §4.1.2): opt-out lives in the NSEC3s.
      data: { hashAlgorithm: 1, flags: 0, iterations: policy.nsec3Iterations, salt: policy.nsec3Salt },
    });
  }

  let zone: Zone;
  try {
    zone = buildZone(origin, input);
  } catch (e) {
    throw new SigningError(origin, (e as Error).message);
  }

  const chain: ResourceRecord[] =
    policy.denial === 'nsec3'
      ? nsec3Chain(zone, { iterations: policy.nsec3Iterations, salt: policy.nsec3Salt, optOut: policy.nsec3OptOut }, denialTtl)
      : nsecChain(zone, denialTtl);

  // ---- who signs what ----
  const byAlg = new Map<number, { ksk: ZoneKey[]; zsk: ZoneKey[] }>();
  for (const k of active) {
    let e = byAlg.get(k.key.algorithm);
    if (!e) byAlg.set(k.key.algorithm, (e = { ksk: [], zsk: [] }));
    (k.ksk ? e.ksk : e.zsk).push(k);
  }
  const apexSigners: ZoneKey[] = [];
  const dataSigners: ZoneKey[] = [];
  for (const e of byAlg.values()) {
    apexSigners.push(...(e.ksk.length ? e.ksk : e.zsk));
    dataSigners.push(...(e.zsk.length ? e.zsk : e.ksk));
  }

  const reuse = opts.previous ? indexSignatures(opts.previous) : undefined;
  const out: ResourceRecord[] = [];
  const result: SignResult = { records: out, created: 0, reused: 0, rrsets: 0, refreshAt: Infinity, signingKeys: [...new Set([...apexSigners, ...dataSigners])], publishedKeys: published };
  const inception = now - policy.inceptionOffset;

  const signSet = (rrset: readonly ResourceRecord[], signers: readonly ZoneKey[]): void => {
    result.rrsets++;
    const first = rrset[0]!;
    const contentKey = reuse ? rrsetKey(rrset) : '';
    const old = reuse?.get(contentKey);
    const jitter = policy.signatureJitter > 0 ? jitterOf(first.name, first.type, inception) % (policy.signatureJitter + 1) : 0;
    for (const k of signers) {
      const kept = old?.find((s) => {
        const d = s.data as RrsigData;
        return d.keyTag === k.tag && d.algorithm === k.key.algorithm && d.signerName.equals(origin) &&
          ((d.expiration - now) | 0) > policy.signatureRefresh && ((d.inception - now) | 0) <= 0;
      });
      let sig: ResourceRecord<RrsigData>;
      if (kept) {
        sig = { ...kept, name: first.name, ttl: first.ttl } as ResourceRecord<RrsigData>;
        result.reused++;
      } else {
        sig = signRrset(rrset, { signer: origin, key: k.key, dnskey: k.dnskey, inception, expiration: now + policy.signatureLifetime - jitter });
        result.created++;
      }
      const due = sig.data.expiration - policy.signatureRefresh;
      if (due < result.refreshAt) result.refreshAt = due;
      out.push(sig);
    }
  };

  for (const node of zone.nodes) {
    const role = nodeRole(node);
    for (const set of node.rrsets) {
      out.push(...set.records);
      if (role === 'occluded') continue; // glue and data under a cut or DNAME: not ours to sign
      if (role === 'delegation' && set.type !== RRType.DS) continue; // NS at a cut is the child's
      const apexKeySet = node === zone.apex && (set.type === RRType.DNSKEY || set.type === RRType.CDS || set.type === RRType.CDNSKEY);
      signSet(setRecords(set), apexKeySet ? apexSigners : dataSigners);
    }
  }
  for (const rr of chain) {
    out.push(rr);
    signSet([rr], dataSigners);
  }
  if (result.refreshAt === Infinity) result.refreshAt = now + policy.signatureLifetime - policy.signatureRefresh;
  return result;
}

/** The records of a set with the set's TTL (RFC 2181 §5.2: the tree keeps one TTL per set). */
function setRecords(set: RRset): readonly ResourceRecord[] {
  return set.records;
}

function keyId(d: DnskeyData): string {
  return `${d.algorithm}/${Buffer.from(d.publicKey).toString('base64')}`;
}

/** A small per-RRset number, stable for one signing pass, to spread expirations. */
function jitterOf(owner: Name, type: number, salt: number): number {
  const h = createHash('sha256').update(owner.key).update(`/${type}/${salt}`).digest();
  return h.readUInt32BE(0);
}

/** Identity of an RRset's signed content: owner, type, class, TTL and the sorted canonical RDATA. */
function rrsetKey(rrset: readonly ResourceRecord[]): string {
  const first = rrset[0]!;
  const rdatas = rrset.map((rr) => canonicalRdata(rr)).sort(compareBytes);
  const h = createHash('sha256').update(`${first.name.key}/${first.type}/${first.class}/${first.ttl}/`);
  let prev: Uint8Array | undefined;
  for (const rd of rdatas) {
    if (prev && compareBytes(prev, rd) === 0) continue;
    prev = rd;
    h.update(Uint8Array.of(rd.length >> 8, rd.length & 0xff)).update(rd);
  }
  return h.digest('base64');
}

/** The RRSIGs of a signed zone, grouped by the content of the RRset each covers. */
function indexSignatures(records: Iterable<ResourceRecord>): Map<string, ResourceRecord[]> {
  const sets = new Map<string, ResourceRecord[]>();
  const sigs = new Map<string, ResourceRecord[]>();
  for (const rr of records) {
    if (rr.type === RRType.RRSIG) {
      if (rr.data instanceof Uint8Array) continue;
      const k = `${rr.name.key}/${(rr.data as RrsigData).typeCovered}`;
      let l = sigs.get(k);
      if (!l) sigs.set(k, (l = []));
      l.push(rr);
      continue;
    }
    const k = `${rr.name.key}/${rr.type}`;
    let l = sets.get(k);
    if (!l) sets.set(k, (l = []));
    l.push(rr);
  }
  const out = new Map<string, ResourceRecord[]>();
  for (const [k, set] of sets) {
    const s = sigs.get(k);
    if (!s) continue;
    // An RRset's TTL is its first record's (the tree's rule); sign data uses that TTL.
    const ttl = set[0]!.ttl;
    const normal = set.map((rr) => (rr.ttl === ttl ? rr : { ...rr, ttl }));
    // Only signatures made over exactly this TTL can be reused.
    out.set(rrsetKey(normal), s.filter((sig) => (sig.data as RrsigData).originalTtl === ttl));
  }
  return out;
}

/** Changes to apply to a signed zone: records added and removed (dynamic update, reload diff). */
export interface ZoneDiff {
  added: readonly ResourceRecord[];
  removed: readonly ResourceRecord[];
}

/**
 * Applies `diff` to a signed zone and signs again, keeping every signature whose RRset did not
 * change and is not due for refresh: only changed RRsets, their NSEC/NSEC3 neighbours and
 * the SOA get new signatures. Records of the types the signer makes are ignored in the diff.
 */
export function resignChanges(signed: readonly ResourceRecord[], diff: ZoneDiff, policy: SigningPolicy, keys: readonly ZoneKey[], now: number): SignResult {
  const soa = signed.find((rr) => rr.type === RRType.SOA);
  if (!soa) throw new RangeError('signed zone has no SOA');
  const origin = soa.name;
  const gone = new Set(diff.removed.map(recordId));
  const data: ResourceRecord[] = [];
  for (const rr of signed) {
    if (GENERATED.has(rr.type)) continue;
    if (gone.has(recordId(rr))) continue;
    data.push(rr);
  }
  for (const rr of diff.added) if (!GENERATED.has(rr.type)) data.push(rr);
  return signZoneDetailed(origin, data, policy, keys, now, { previous: signed });
}

function recordId(rr: ResourceRecord): string {
  const rd = rr.data instanceof Uint8Array ? rr.data : encodeRdata(rr.type, rr.data, true);
  return `${rr.name.key}/${rr.type}/${rr.class}/${Buffer.from(rd).toString('base64')}`;
}

/** The DS records for the parent (RFC 4509 SHA-256 and SHA-384 digests) of the zone's KSKs/CSKs. */
export function dsRecords(keys: readonly ZoneKey[], ttl = 3600, digests: readonly number[] = [DigestType.SHA256, DigestType.SHA384]): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  const sep = keys.filter((k) => k.ksk);
  for (const k of sep.length ? sep : keys) {
    for (const dt of digests) out.push({ name: k.zone, type: RRType.DS, class: 1, ttl, data: makeDs(k.zone, k.dnskey, dt) });
  }
  return out;
}

export { nodeRole };
