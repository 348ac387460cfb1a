/** IPv4 and IPv6 address text <-> bytes, strict (no zone ids, no shorthand IPv4 forms). */
import { SLICE_MIN } from '../name.js';

export function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^[0-9]{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

/**
 * The canonical text of an IPv4 address (what formatIPv4 gives for parseIPv4's bytes), checked
 * as parseIPv4 checks it but without building the bytes: zone files hold hundreds of thousands
 * of addresses. Gives `text` itself when it is already canonical and short (a slice of 13
 * characters or more would keep the whole text it was cut from alive).
 */
export function canonicalIPv4(text: string): string | undefined {
  const canonical = ipv4Number(text, true);
  if (canonical !== undefined && text.length < SLICE_MIN) return text;
  const v = canonical ?? ipv4Number(text);
  return v === undefined ? undefined : formatIPv4Number(v);
}

/**
 * An IPv4 text checked as parseIPv4 checks it, as a signed 32-bit integer (what V8 keeps without
 * a heap object), or undefined; with `canonicalOnly`, also undefined when a part has a leading
 * zero (the text is then not what formatIPv4 would give).
 */
export function ipv4Number(text: string, canonicalOnly = false): number | undefined {
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || part > 255 || dots === 4) return undefined;
      v = (v << 8) | part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      if (canonicalOnly && digits === 1 && part === 0) return undefined;
      part = part * 10 + (c - 0x30);
      digits++;
    } else return undefined;
  }
  return dots === 4 ? v : undefined;
}

/** The dotted text of an address held as ipv4Number gives it. */
export function formatIPv4Number(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

export function formatIPv4(b: Uint8Array, at = 0): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

export function parseIPv6(text: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const out = new Uint8Array(16);
  let head = text;
  let tail = '';
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    if (text.indexOf('::', dbl + 1) >= 0) return undefined;
    head = text.slice(0, dbl);
    tail = text.slice(dbl + 2);
  }
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  if (!h || !t) return undefined;
  if (dbl >= 0 ? h.length + t.length > 7 : h.length !== 8) return undefined;
  // An embedded IPv4 may only end the address.
  if (dbl >= 0 && head.includes('.')) return undefined;
  const all = dbl >= 0 ? [...h, ...new Array(8 - h.length - t.length).fill(0), ...t] : h;
  for (let i = 0; i < 8; i++) {
    out[i * 2] = all[i]! >> 8;
    out[i * 2 + 1] = all[i]! & 0xff;
  }
  return out;
}

/** RFC 5952 canonical text: lower case, longest zero run (>= 2 groups) as `::`. */
export function formatIPv6(b: Uint8Array, at = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[at + i * 2]! << 8) | b[at + i * 2 + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (x: number): string => x.toString(16);
  if (bestStart < 0) return g.map(hex).join(':');
  const left = g.slice(0, bestStart).map(hex).join(':');
  const right = g.slice(bestStart + bestLen).map(hex).join(':');
  return `${left}::${right}`;
}
