/**
 * Binary-to-text encodings used in presentation formats: base64 (RFC 4648 §4), base32hex
 * without padding (RFC 4648 §7, NSEC3), hex. Decoders are strict and return `undefined` on bad
 * input so callers can attach the token position to the error.
 */

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function base64Decode(text: string): Uint8Array | undefined {
  if (!B64.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64'));
}

export function base64Encode(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

const B32HEX = '0123456789abcdefghijklmnopqrstuv';

/** Base32hex, lower case, no padding (the NSEC3 owner-label form). */
export function base32hexEncode(b: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const byte of b) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += B32HEX[(acc >>> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32HEX[(acc << (5 - bits)) & 31];
  return out;
}

/** Decodes base32hex (either case, no padding). Leftover bits must be zero. */
export function base32hexDecode(text: string): Uint8Array | undefined {
  const s = text.toLowerCase();
  // Valid unpadded lengths: 8k + {0,2,4,5,7} characters.
  if (![0, 2, 4, 5, 7].includes(s.length % 8)) return undefined;
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const ch of s) {
    const v = B32HEX.indexOf(ch);
    if (v < 0) return undefined;
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >>> bits) & 0xff);
    }
    acc &= (1 << bits) - 1;
  }
  if (acc !== 0) return undefined;
  return Uint8Array.from(out);
}

export function hexDecode(text: string): Uint8Array | undefined {
  if (text.length % 2 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'hex'));
}

export function hexEncode(b: Uint8Array, upper = true): string {
  const s = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  return upper ? s.toUpperCase() : s;
}
