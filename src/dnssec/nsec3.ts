import { createHash } from 'node:crypto';
import type { Name } from '../wire/index.js';

/** NSEC3 owner hash (RFC 5155 §5): iterated SHA-1 over the canonical name and the salt. */
export function nsec3Hash(name: Name, salt: Uint8Array, iterations: number): Uint8Array {
  let h = createHash('sha1').update(name.toWire(true)).update(salt).digest();
  for (let i = 0; i < iterations; i++) h = createHash('sha1').update(h).update(salt).digest();
  return new Uint8Array(h);
}

const B32 = '0123456789abcdefghijklmnopqrstuv';

/** Base32 with the extended hex alphabet, no padding (RFC 4648 §7), lower case as in owner names. */
export function base32hex(b: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of b) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}
