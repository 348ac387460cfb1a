import { parseIPv4, parseIPv6 } from '../wire/index.js';

/**
 * The detector's allow list: domain names (the name and everything below it) and client
 * addresses or CIDR prefixes (IPv4 and IPv6). Allowed traffic is still counted in metrics and
 * logged; it is never scored, alerted on or throttled.
 */
export class AllowList {
  private readonly domains = new Set<string>();
  private readonly prefixes: { bytes: Uint8Array; bits: number }[] = [];

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const e = raw.trim();
      const slash = e.indexOf('/');
      const addr = slash >= 0 ? e.slice(0, slash) : e;
      const bytes = parseIPv4(addr) ?? parseIPv6(addr);
      if (bytes) {
        const bits = slash >= 0 ? Number(e.slice(slash + 1)) : bytes.length * 8;
        if (!Number.isInteger(bits) || bits < 0 || bits > bytes.length * 8) {
          throw new RangeError(`allow: bad prefix length in "${raw}"`);
        }
        this.prefixes.push({ bytes, bits });
        continue;
      }
      if (slash >= 0) throw new RangeError(`allow: "${raw}" is neither an address prefix nor a domain name`);
      let d = e.toLowerCase();
      if (d.endsWith('.')) d = d.slice(0, -1);
      if (d.length === 0 || d.includes('..')) throw new RangeError(`allow: bad domain name "${raw}"`);
      this.domains.add(d);
    }
  }

  get empty(): boolean {
    return this.domains.size === 0 && this.prefixes.length === 0;
  }

  /** `name` lower case without trailing dot. */
  allowsName(name: string): boolean {
    if (this.domains.size === 0) return false;
    let n = name;
    for (;;) {
      if (this.domains.has(n)) return true;
      const dot = n.indexOf('.');
      if (dot < 0) return false;
      n = n.slice(dot + 1);
    }
  }

  allowsClient(client: string): boolean {
    if (this.prefixes.length === 0) return false;
    const b = parseIPv4(client) ?? parseIPv6(client);
    if (!b) return false;
    for (const p of this.prefixes) {
      if (p.bytes.length !== b.length) continue;
      if (prefixMatch(p.bytes, b, p.bits)) return true;
    }
    return false;
  }
}

function prefixMatch(net: Uint8Array, addr: Uint8Array, bits: number): boolean {
  let i = 0;
  for (; bits >= 8; bits -= 8, i++) if (net[i] !== addr[i]) return false;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (net[i]! & mask) === (addr[i]! & mask);
}
