import type { KeyObject } from 'node:crypto';
import { RRType, type Name, type ResourceRecord } from '../wire/index.js';
import { signedData } from './canonical.js';
import { importPublicKey, verifySignature } from './crypto.js';
import { keyTag } from './keytag.js';
import { DnskeyFlags, type DnskeyData, type RrsigData } from './types.js';

export type RrsigCheck =
  | { ok: true }
  | { ok: false; reason: 'expired' | 'not-yet-valid' | 'bad-signature' | 'unsupported-algorithm' | 'key-mismatch' | 'bad-key' | 'bad-labels' };

/** Serial-number comparison of 32-bit times (RFC 4034 §3.1.5 uses RFC 1982 arithmetic). */
function timeBefore(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

const keyCache = new WeakMap<Uint8Array, KeyObject | null>();

/**
 * Checks one RRSIG over an RRset with one DNSKEY: key tag, algorithm, signer, zone-key bit,
 * validity window at `now` (seconds), then the signature itself.
 */
export function verifyRrsig(rrset: readonly ResourceRecord[], sig: RrsigData, signer: Name, key: DnskeyData, now = Math.floor(Date.now() / 1000)): RrsigCheck {
  if (key.algorithm !== sig.algorithm || keyTag(key) !== sig.keyTag || !signer.equals(sig.signerName)) return { ok: false, reason: 'key-mismatch' };
  if (!(key.flags & DnskeyFlags.ZONE) || key.protocol !== 3) return { ok: false, reason: 'key-mismatch' };
  // A revoked key signs nothing but the DNSKEY RRset that announces its own revocation (RFC 5011 §2.1).
  if (key.flags & DnskeyFlags.REVOKE && !(sig.typeCovered === RRType.DNSKEY && rrset[0]?.name.equals(signer) && rrset.some((r) => r.type === RRType.DNSKEY && sameKey(r.data as DnskeyData, key)))) {
    return { ok: false, reason: 'key-mismatch' };
  }
  const owner = rrset[0]?.name;
  if (!owner || sig.labels > owner.labelCount - (owner.labels[0] === '*' ? 1 : 0)) return { ok: false, reason: 'bad-labels' };
  const n = now >>> 0;
  if (timeBefore(sig.expiration, n)) return { ok: false, reason: 'expired' };
  if (timeBefore(n, sig.inception)) return { ok: false, reason: 'not-yet-valid' };
  let pub = keyCache.get(key.publicKey);
  if (pub === undefined) {
    pub = importPublicKey(key.algorithm, key.publicKey) ?? null;
    keyCache.set(key.publicKey, pub);
  }
  if (!pub) return { ok: false, reason: 'bad-key' };
  return verifySignature(sig.algorithm, pub, signedData(rrset, sig), sig.signature) ? { ok: true } : { ok: false, reason: 'bad-signature' };
}

function sameKey(a: DnskeyData, b: DnskeyData): boolean {
  return a.flags === b.flags && a.algorithm === b.algorithm && Buffer.from(a.publicKey).equals(Buffer.from(b.publicKey));
}
