import type { Name } from '../wire/index.js';

// Shapes of the DNSSEC record data as the wire codecs hold them (src/wire/rdata).

export interface DnskeyData { flags: number; protocol: number; algorithm: number; publicKey: Uint8Array }
export interface DsData { keyTag: number; algorithm: number; digestType: number; digest: Uint8Array }
export interface RrsigData {
  typeCovered: number; algorithm: number; labels: number; originalTtl: number;
  expiration: number; inception: number; keyTag: number; signerName: Name; signature: Uint8Array;
}
export interface NsecData { next: Name; types: number[] }
export interface Nsec3Data { hashAlgorithm: number; flags: number; iterations: number; salt: Uint8Array; nextHashed: Uint8Array; types: number[] }

/** DNSSEC algorithm numbers (IANA). */
export const Algorithm = {
  RSAMD5: 1, DSA: 3, RSASHA1: 5, DSA_NSEC3_SHA1: 6, RSASHA1_NSEC3_SHA1: 7, RSASHA256: 8, RSASHA512: 10,
  ECC_GOST: 12, ECDSAP256SHA256: 13, ECDSAP384SHA384: 14, ED25519: 15, ED448: 16,
} as const;

export const DigestType = { SHA1: 1, SHA256: 2, GOST: 3, SHA384: 4 } as const;

/** DNSKEY flag bits. */
export const DnskeyFlags = { ZONE: 0x0100, REVOKE: 0x0080, SEP: 0x0001 } as const;
