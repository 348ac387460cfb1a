import { createHash } from 'node:crypto';
import { encodeRdata, RRType, type Name } from '../wire/index.js';
import { keyTag } from './keytag.js';
import { DigestType, type DnskeyData, type DsData } from './types.js';

const digestHash: Record<number, string> = { [DigestType.SHA1]: 'sha1', [DigestType.SHA256]: 'sha256', [DigestType.SHA384]: 'sha384' };

export function supportedDigest(type: number): boolean {
  return type in digestHash;
}

/** DS for a DNSKEY (RFC 4034 §5.1.4): digest over the canonical owner name and the DNSKEY RDATA. */
export function makeDs(owner: Name, key: DnskeyData, digestType: number = DigestType.SHA256): DsData {
  const hash = digestHash[digestType];
  if (!hash) throw new RangeError(`unsupported DS digest type ${digestType}`);
  const h = createHash(hash);
  h.update(owner.toWire(true));
  h.update(encodeRdata(RRType.DNSKEY, key));
  return { keyTag: keyTag(key), algorithm: key.algorithm, digestType, digest: new Uint8Array(h.digest()) };
}

/** Does this DS match this DNSKEY at `owner`? Unsupported digest types never match. */
export function dsMatches(owner: Name, ds: DsData, key: DnskeyData): boolean {
  if (!supportedDigest(ds.digestType) || ds.algorithm !== key.algorithm || ds.keyTag !== keyTag(key)) return false;
  const mine = makeDs(owner, key, ds.digestType);
  return Buffer.from(mine.digest).equals(Buffer.from(ds.digest));
}
