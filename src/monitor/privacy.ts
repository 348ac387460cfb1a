import { createHmac, randomBytes } from 'node:crypto';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../wire/index.js';

/**
 * How client addresses appear in logs, alerts and the API:
 * - `full`: as they are;
 * - `truncate`: IPv4 to its /24, IPv6 to its /48 (the last octets zeroed), as Google Public DNS logs;
 * - `hash`: a keyed hash (HMAC-SHA-256, first 16 hex digits), stable while the key stays the same,
 *   so one client's lines can still be followed without storing who it is.
 */
export type ClientPrivacy = 'full' | 'truncate' | 'hash';

export type ClientMapper = (client: string) => string;

export function truncateAddress(addr: string): string {
  const v4 = parseIPv4(addr);
  if (v4) {
    v4[3] = 0;
    return formatIPv4(v4);
  }
  const v6 = parseIPv6(addr);
  if (v6) {
    v6.fill(0, 6);
    return formatIPv6(v6);
  }
  return addr;
}

/** Builds the mapper. `key` is the hash key; a random one per process when absent. */
export function clientMapper(mode: ClientPrivacy, key?: string | Uint8Array): ClientMapper {
  if (mode === 'full') return (c) => c;
  if (mode === 'truncate') return truncateAddress;
  const k = key ?? randomBytes(32);
  // A small memo keeps the hot path to a Map lookup; cleared wholesale when it grows, since
  // an attacker cycling source addresses must not grow it without bound.
  const memo = new Map<string, string>();
  return (c) => {
    let h = memo.get(c);
    if (h === undefined) {
      h = createHmac('sha256', k).update(c).digest('hex').slice(0, 16);
      if (memo.size >= 10000) memo.clear();
      memo.set(c, h);
    }
    return h;
  };
}
