import { RRType, type Name, type ResourceRecord } from '../wire/index.js';
import { supportedAlgorithm } from './crypto.js';
import { dsMatches, supportedDigest } from './ds.js';
import { keyTag } from './keytag.js';
import { Algorithm, DigestType, DnskeyFlags, type DnskeyData, type DsData, type RrsigData } from './types.js';
import { verifyDsaRrsig } from './validate-dsa.js';
import { verifyRrsig } from './verify.js';

/**
 * Validation of RRsets and DNSKEY sets (RFC 4035 §5), the policy layer above `verifyRrsig`:
 * which signatures and keys are tried, how many (KeyTrap limits), and which Extended DNS
 * Error (RFC 8914) explains a failure.
 */

/** RFC 4033 §5 security states. */
export type Security = 'secure' | 'insecure' | 'bogus' | 'indeterminate';

export interface Ede {
  infoCode: number;
  text: string;
}

export const EDE = {
  OTHER: 0, UNSUPPORTED_DNSKEY_ALGORITHM: 1, UNSUPPORTED_DS_DIGEST: 2, DNSSEC_INDETERMINATE: 5, DNSSEC_BOGUS: 6,
  SIGNATURE_EXPIRED: 7, SIGNATURE_NOT_YET_VALID: 8, DNSKEY_MISSING: 9, RRSIGS_MISSING: 10, NSEC_MISSING: 12,
  UNSUPPORTED_NSEC3_ITERATIONS: 27,
} as const;

/** Work limits against KeyTrap-style attacks (CVE-2023-50387) and NSEC3 hashing floods (RFC 9276). */
export interface ValidationLimits {
  /** DNSKEYs tried for one RRSIG when several share its key tag. */
  maxKeysPerTag: number;
  /** RRSIGs tried for one RRset. */
  maxSigsPerRrset: number;
  /** Signature verifications for one client question. */
  maxValidations: number;
  /** NSEC3 iterations above this make a denial insecure (EDE 27). */
  maxNsec3Iterations: number;
  /** NSEC3 hash computations for one client question. */
  maxNsec3Hashes: number;
  /** Accept RSA/SHA-1 (algorithms 5, 7), DSA (3, 6) and SHA-1 DS digests: a test switch, off by default (RFC 8624). */
  allowSha1: boolean;
}

export const defaultValidationLimits: ValidationLimits = {
  maxKeysPerTag: 4,
  maxSigsPerRrset: 8,
  maxValidations: 128,
  maxNsec3Iterations: 150,
  maxNsec3Hashes: 256,
  allowSha1: false,
};

/** The validation work done for one client question; shared by every RRset checked for it. */
export class ValidationBudget {
  validations = 0;
  hashes = 0;
  constructor(readonly limits: ValidationLimits = defaultValidationLimits) {}

  /** Takes one signature verification from the budget; false when it is spent. */
  takeValidation(): boolean {
    return ++this.validations <= this.limits.maxValidations;
  }

  takeHash(): boolean {
    return ++this.hashes <= this.limits.maxNsec3Hashes;
  }
}

/** May this algorithm be validated under these limits? */
export function algorithmUsable(alg: number, limits: ValidationLimits): boolean {
  if (alg === Algorithm.DSA || alg === Algorithm.DSA_NSEC3_SHA1) return limits.allowSha1;
  if (!supportedAlgorithm(alg)) return false;
  if ((alg === Algorithm.RSASHA1 || alg === Algorithm.RSASHA1_NSEC3_SHA1) && !limits.allowSha1) return false;
  return true;
}

export function digestUsable(type: number, limits: ValidationLimits): boolean {
  if (!supportedDigest(type)) return false;
  return type !== DigestType.SHA1 || limits.allowSha1;
}

export type RrsetVerdict =
  | { ok: true; ttl: number; sig: RrsigData }
  | { ok: false; ede: Ede };

/** The RRSIG data of the signatures in `sigs` that cover `type` at `owner`. */
export function sigsCovering(sigs: readonly ResourceRecord[], owner: Name, type: number): RrsigData[] {
  const out: RrsigData[] = [];
  for (const s of sigs) {
    if (s.type !== RRType.RRSIG || !s.name.equals(owner) || s.data instanceof Uint8Array) continue;
    const d = s.data as RrsigData;
    if (d.typeCovered === type) out.push(d);
  }
  return out;
}

/**
 * Checks one RRset against the zone's trusted keys: secure if one RRSIG by `zone` verifies
 * with one of them. The TTL of a secure RRset is capped by the RRSIG's original TTL and by the
 * time left before the signature expires (RFC 4035 §5.3.3).
 */
export function verifyRrset(
  rrset: readonly ResourceRecord[], sigs: readonly RrsigData[], keys: readonly DnskeyData[], zone: Name, now: number, budget: ValidationBudget,
): RrsetVerdict {
  const owner = rrset[0]?.name;
  if (!owner) return { ok: false, ede: { infoCode: EDE.DNSSEC_BOGUS, text: 'empty RRset' } };
  const what = `${owner} ${rrset[0]!.type}`;
  const candidates = sigs.filter((s) => s.signerName.equals(zone) && algorithmUsable(s.algorithm, budget.limits));
  if (candidates.length === 0) {
    const other = sigs.find((s) => !s.signerName.equals(zone));
    return {
      ok: false,
      ede: { infoCode: EDE.RRSIGS_MISSING, text: other ? `RRSIG for ${what} signed by ${other.signerName}, expected ${zone}` : `no usable RRSIG for ${what}` },
    };
  }
  let expired = false;
  let notYet = false;
  let keyMissing = false;
  let lastReason = 'bad signature';
  for (const sig of candidates.slice(0, budget.limits.maxSigsPerRrset)) {
    const matching = keys.filter((k) => k.algorithm === sig.algorithm && keyTag(k) === sig.keyTag).slice(0, budget.limits.maxKeysPerTag);
    if (matching.length === 0) {
      keyMissing = true;
      continue;
    }
    for (const key of matching) {
      if (!budget.takeValidation()) {
        return { ok: false, ede: { infoCode: EDE.DNSSEC_BOGUS, text: `validation limit: more than ${budget.limits.maxValidations} signature checks for one question` } };
      }
      const r = sig.algorithm === Algorithm.DSA || sig.algorithm === Algorithm.DSA_NSEC3_SHA1
        ? verifyDsaRrsig(rrset, sig, zone, key, now) : verifyRrsig(rrset, sig, zone, key, now);
      if (r.ok) {
        const left = ((sig.expiration - now) | 0) >>> 0;
        const ttl = Math.min(...rrset.map((x) => x.ttl), sig.originalTtl, left);
        return { ok: true, ttl, sig };
      }
      if (r.reason === 'expired') expired = true;
      else if (r.reason === 'not-yet-valid') notYet = true;
      lastReason = r.reason;
    }
  }
  if (expired) return { ok: false, ede: { infoCode: EDE.SIGNATURE_EXPIRED, text: `RRSIG for ${what} has expired` } };
  if (notYet) return { ok: false, ede: { infoCode: EDE.SIGNATURE_NOT_YET_VALID, text: `RRSIG for ${what} is not yet valid` } };
  if (keyMissing && lastReason === 'bad signature') return { ok: false, ede: { infoCode: EDE.DNSKEY_MISSING, text: `no DNSKEY of ${zone} matches the RRSIG for ${what}` } };
  return { ok: false, ede: { infoCode: EDE.DNSSEC_BOGUS, text: `RRSIG for ${what} does not verify (${lastReason})` } };
}

export type KeysetVerdict =
  | { security: 'secure'; keys: DnskeyData[]; ttl: number }
  | { security: 'insecure' | 'bogus'; ede: Ede };

/**
 * Validates a zone's DNSKEY RRset against what the parent vouches for (RFC 4035 §5.2): the DS
 * RRset (or, for a trust anchor, DS and/or DNSKEY records). A key matching a DS must sign the
 * DNSKEY RRset. DS records of algorithms or digests we cannot use are ignored; when none are
 * left, the zone is insecure (RFC 4035 §5.2, EDE 1 or 2).
 */
export function validateKeyset(
  zone: Name, dnskeys: readonly ResourceRecord[], sigs: readonly RrsigData[], ds: readonly DsData[], anchorKeys: readonly DnskeyData[],
  now: number, budget: ValidationBudget,
): KeysetVerdict {
  const limits = budget.limits;
  let usableDs = ds.filter((d) => algorithmUsable(d.algorithm, limits) && digestUsable(d.digestType, limits));
  // RFC 4509 §3: with a SHA-256 (or stronger) DS present, SHA-1 DS records are ignored.
  if (usableDs.some((d) => d.digestType !== DigestType.SHA1)) usableDs = usableDs.filter((d) => d.digestType !== DigestType.SHA1);
  const usableAnchors = anchorKeys.filter((k) => algorithmUsable(k.algorithm, limits));
  if (usableDs.length === 0 && usableAnchors.length === 0) {
    const algOk = ds.some((d) => algorithmUsable(d.algorithm, limits)) || anchorKeys.some((k) => algorithmUsable(k.algorithm, limits));
    if (!algOk && (ds.length > 0 || anchorKeys.length > 0)) {
      return { security: 'insecure', ede: { infoCode: EDE.UNSUPPORTED_DNSKEY_ALGORITHM, text: `${zone}: no supported DNSKEY algorithm in ${[...ds.map((d) => d.algorithm), ...anchorKeys.map((k) => k.algorithm)].join(', ')}` } };
    }
    return { security: 'insecure', ede: { infoCode: EDE.UNSUPPORTED_DS_DIGEST, text: `${zone}: no supported DS digest type in ${ds.map((d) => d.digestType).join(', ')}` } };
  }
  const keys = dnskeys.filter((r) => r.type === RRType.DNSKEY && !(r.data instanceof Uint8Array)).map((r) => r.data as DnskeyData);
  if (keys.length === 0) return { security: 'bogus', ede: { infoCode: EDE.DNSKEY_MISSING, text: `${zone}: no DNSKEY records` } };
  const anchored: DnskeyData[] = [];
  for (const k of keys) {
    if (!(k.flags & DnskeyFlags.ZONE) || k.protocol !== 3) continue;
    if (usableDs.some((d) => d.keyTag === keyTag(k) && dsMatches(zone, d, k)) || usableAnchors.some((a) => sameKey(a, k))) anchored.push(k);
  }
  if (anchored.length === 0) return { security: 'bogus', ede: { infoCode: EDE.DNSKEY_MISSING, text: `${zone}: no DNSKEY matches the DS records` } };
  const v = verifyRrset(dnskeys.filter((r) => r.type === RRType.DNSKEY), sigs, anchored, zone, now, budget);
  if (!v.ok) return { security: 'bogus', ede: { ...v.ede, text: `${zone} DNSKEY: ${v.ede.text}` } };
  return { security: 'secure', keys: keys.filter((k) => k.flags & DnskeyFlags.ZONE && k.protocol === 3), ttl: v.ttl };
}

function sameKey(a: DnskeyData, b: DnskeyData): boolean {
  return a.algorithm === b.algorithm && a.protocol === b.protocol && (a.flags & ~DnskeyFlags.REVOKE) === (b.flags & ~DnskeyFlags.REVOKE)
    && Buffer.from(a.publicKey).equals(Buffer.from(b.publicKey));
}

/** Does the RRSIG say the RRset was synthesised from a wildcard (RFC 4035 §5.3.4)? Returns the wildcard's closest encloser. */
export function wildcardEncloser(owner: Name, sig: RrsigData): Name | undefined {
  const labels = owner.labelCount - (owner.labels[0] === '*' ? 1 : 0);
  return sig.labels < labels ? owner.suffix(sig.labels) : undefined;
}
