import { isIP } from 'node:net';
import { parseIPv4, parseIPv6 } from '../wire/index.js';

/**
 * Client addresses as 16-byte arrays (IPv4 mapped into ::ffff:0:0/96) so one prefix matcher
 * serves both families, and dual-stack sockets' "::ffff:192.0.2.1" equals "192.0.2.1".
 */
export function addressBytes(address: string): Uint8Array | undefined {
  // Several steps ask for the same client's bytes in one query (view ACL, recursion ACL, rate
  // limit, cookies): the last answer is kept. Callers only read the result; it is shared.
  if (address === lastAddress) return lastBytes;
  const bytes = parseAddressBytes(address);
  lastAddress = address;
  lastBytes = bytes;
  return bytes;
}

let lastAddress: string | undefined;
let lastBytes: Uint8Array | undefined;

function parseAddressBytes(address: string): Uint8Array | undefined {
  const v = isIP(address);
  if (v === 4) {
    const b = parseIPv4(address)!;
    return mapped(b);
  }
  if (v === 6) {
    const noZone = address.replace(/%.*$/, '');
    return parseIPv6(noZone);
  }
  return undefined;
}

function mapped(v4: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(v4, 12);
  return out;
}

export function isMappedV4(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** An address prefix; IPv4 prefixes are stored mapped, with length + 96. */
export interface Prefix {
  readonly bytes: Uint8Array;
  readonly length: number;
  readonly text: string;
}

export function parsePrefix(text: string): Prefix | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const bytes = addressBytes(addr);
  if (!bytes) return undefined;
  const v4 = isIP(addr) === 4;
  const max = v4 ? 32 : 128;
  let len = max;
  if (slash >= 0) {
    const l = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(l) || Number(l) > max) return undefined;
    len = Number(l);
  }
  return { bytes: maskBytes(bytes, v4 ? len + 96 : len), length: v4 ? len + 96 : len, text };
}

export function maskBytes(b: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(16);
  const full = length >> 3;
  out.set(b.subarray(0, full));
  if (length & 7) out[full] = b[full]! & (0xff << (8 - (length & 7)));
  return out;
}

export function prefixContains(p: Prefix, addr: Uint8Array): boolean {
  const full = p.length >> 3;
  for (let i = 0; i < full; i++) if (p.bytes[i] !== addr[i]) return false;
  const rem = p.length & 7;
  if (rem) {
    const mask = 0xff << (8 - rem);
    if ((addr[full]! & mask) !== p.bytes[full]) return false;
  }
  return true;
}

/** Is this a loopback address (127.0.0.0/8, ::1, or mapped loopback)? */
export function isLoopback(address: string): boolean {
  const b = addressBytes(address);
  if (!b) return false;
  if (isMappedV4(b)) return b[12] === 127;
  for (let i = 0; i < 15; i++) if (b[i] !== 0) return false;
  return b[15] === 1;
}

const privatePrefixes = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '169.254.0.0/16', '100.64.0.0/10', '::1/128', 'fc00::/7', 'fe80::/10'].map((t) => parsePrefix(t)!);

/** True when every address of the prefix is private, loopback or link-local (RFC 1918, 4193, 6598). */
export function isPrivatePrefix(p: Prefix): boolean {
  return privatePrefixes.some((q) => q.length <= p.length && prefixContains(q, p.bytes));
}
