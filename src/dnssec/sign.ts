import { RRType, type Name, type ResourceRecord } from '../wire/index.js';
import { rrsigLabels, signedData } from './canonical.js';
import { signData, type SigningKey } from './crypto.js';
import { keyTag } from './keytag.js';
import { DnskeyFlags, type DnskeyData, type RrsigData } from './types.js';

/** The DNSKEY record data of a signing key. */
export function dnskeyOf(key: SigningKey, ksk: boolean): DnskeyData {
  return { flags: DnskeyFlags.ZONE | (ksk ? DnskeyFlags.SEP : 0), protocol: 3, algorithm: key.algorithm, publicKey: key.publicKey };
}

export interface SignParams {
  signer: Name;
  key: SigningKey;
  dnskey: DnskeyData;
  inception: number;
  expiration: number;
}

/** An RRSIG record over one RRset (all records share owner, type, class and TTL). */
export function signRrset(rrset: readonly ResourceRecord[], p: SignParams): ResourceRecord<RrsigData> {
  const first = rrset[0]!;
  const data: RrsigData = {
    typeCovered: first.type,
    algorithm: p.key.algorithm,
    labels: rrsigLabels(first.name),
    originalTtl: first.ttl,
    expiration: p.expiration >>> 0,
    inception: p.inception >>> 0,
    keyTag: keyTag(p.dnskey),
    signerName: p.signer,
    signature: new Uint8Array(0),
  };
  data.signature = signData(p.key, signedData(rrset, data));
  return { name: first.name, type: RRType.RRSIG, class: first.class, ttl: first.ttl, data };
}
