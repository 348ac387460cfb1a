import { encodeRdata, RRType } from '../wire/index.js';
import type { DnskeyData } from './types.js';

/** RFC 4034 Appendix B key tag (with the B.1 rule for the obsolete algorithm 1). */
export function keyTag(key: DnskeyData): number {
  const rdata = encodeRdata(RRType.DNSKEY, key);
  if (key.algorithm === 1) {
    // RSA/MD5: the most significant 16 bits of the least significant 24 bits of the modulus.
    const n = rdata.length;
    return (rdata[n - 3]! << 8) | rdata[n - 2]!;
  }
  let ac = 0;
  for (let i = 0; i < rdata.length; i++) ac += i & 1 ? rdata[i]! : rdata[i]! << 8;
  ac += (ac >> 16) & 0xffff;
  return ac & 0xffff;
}
