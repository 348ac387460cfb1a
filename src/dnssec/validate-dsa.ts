import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { ResourceRecord } from '../wire/index.js';
import { signedData } from './canonical.js';
import { keyTag } from './keytag.js';
import { DnskeyFlags, type DnskeyData, type RrsigData } from './types.js';
import type { RrsigCheck } from './verify.js';
import type { Name } from '../wire/index.js';

/**
 * DSA/SHA-1 (algorithms 3 and 6, RFC 2536) for validation only, behind the SHA-1 test switch:
 * RFC 8624 says MUST NOT validate, but older test corpora (Unbound's val_* scenarios) are signed
 * with DSA keys. The DNSKEY holds T, Q, P, G, Y; node:crypto wants an SPKI structure.
 */

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v >>= 8) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

function der(tag: number, body: Uint8Array | number[]): number[] {
  return [tag, ...derLength(body.length), ...body];
}

function derInteger(b: Uint8Array): number[] {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = [...b.subarray(i)];
  if (v[0]! & 0x80) v.unshift(0);
  return der(0x02, v);
}

const DSA_OID = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01];

const cache = new WeakMap<Uint8Array, KeyObject | null>();

export function importDsaKey(key: Uint8Array): KeyObject | undefined {
  const hit = cache.get(key);
  if (hit !== undefined) return hit ?? undefined;
  let out: KeyObject | undefined;
  const t = key[0];
  if (t !== undefined && t <= 8) {
    const size = 64 + t * 8;
    if (key.length === 1 + 20 + size * 3) {
      const q = key.subarray(1, 21);
      const p = key.subarray(21, 21 + size);
      const g = key.subarray(21 + size, 21 + 2 * size);
      const y = key.subarray(21 + 2 * size);
      const params = der(0x30, [...derInteger(p), ...derInteger(q), ...derInteger(g)]);
      const algId = der(0x30, [...DSA_OID, ...params]);
      const spki = der(0x30, [...algId, ...der(0x03, [0, ...derInteger(y)])]);
      try {
        out = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
      } catch {
        out = undefined;
      }
    }
  }
  cache.set(key, out ?? null);
  return out;
}

function timeBefore(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** verifyRrsig for DSA keys: the same checks, then the DSA signature (T, R, S). */
export function verifyDsaRrsig(rrset: readonly ResourceRecord[], sig: RrsigData, signer: Name, key: DnskeyData, now: number): RrsigCheck {
  if (key.algorithm !== sig.algorithm || keyTag(key) !== sig.keyTag || !signer.equals(sig.signerName)) return { ok: false, reason: 'key-mismatch' };
  if (!(key.flags & DnskeyFlags.ZONE) || key.protocol !== 3 || key.flags & DnskeyFlags.REVOKE) return { ok: false, reason: 'key-mismatch' };
  const owner = rrset[0]?.name;
  if (!owner || sig.labels > owner.labelCount - (owner.labels[0] === '*' ? 1 : 0)) return { ok: false, reason: 'bad-labels' };
  const n = now >>> 0;
  if (timeBefore(sig.expiration, n)) return { ok: false, reason: 'expired' };
  if (timeBefore(n, sig.inception)) return { ok: false, reason: 'not-yet-valid' };
  const pub = importDsaKey(key.publicKey);
  if (!pub) return { ok: false, reason: 'bad-key' };
  // RFC 2536 form is T, R, S (41 octets); some test corpora (Unbound's) hold DER signatures.
  const rfc = sig.signature.length === 41;
  if (!rfc && sig.signature[0] !== 0x30) return { ok: false, reason: 'bad-signature' };
  try {
    const ok = cryptoVerify('sha1', signedData(rrset, sig), { key: pub, dsaEncoding: rfc ? 'ieee-p1363' : 'der' }, rfc ? sig.signature.subarray(1) : sig.signature);
    return ok ? { ok: true } : { ok: false, reason: 'bad-signature' };
  } catch {
    return { ok: false, reason: 'bad-signature' };
  }
}
