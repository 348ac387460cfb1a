import { RRType } from '../constants.js';
import { Name } from '../name.js';
import type { Token, Tokens } from '../tokens.js';
import { TextError } from '../errors.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './address.js';
import { charStringFromToken, charStringToText, parseUint, registerCodec, type RecordCodec } from './codec.js';

/** Parses a name token relative to `origin`, turning parse errors into positioned ones. */
export function nameFromToken(t: Tokens, tok: Token, origin: Name): Name {
  try {
    return Name.parse(tok.text, origin);
  } catch (e) {
    throw t.error(tok, e instanceof TextError ? e.reason : (e as Error).message);
  }
}

/**
 * TTL text: seconds, or BIND's unit form (`1w2d3h4m5s`, case-insensitive). At most 2^31-1
 * (RFC 2181 §8).
 */
export function parseTtlText(text: string): number | undefined {
  if (/^[0-9]+$/.test(text)) {
    const v = Number(text);
    return v <= 0xffffffff ? v : undefined;
  }
  const re = /([0-9]+)([wdhms])/gi;
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(re)) {
    if (m.index !== consumed) return undefined;
    consumed += m[0].length;
    const mult = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 }[m[2]!.toLowerCase() as 'w']!;
    total += Number(m[1]) * mult;
  }
  if (consumed !== text.length || consumed === 0 || total > 0xffffffff) return undefined;
  return total;
}

export function ttlFromToken(t: Tokens, tok: Token, what = 'TTL'): number {
  const v = parseTtlText(tok.text);
  if (v === undefined) throw t.error(tok, `${what} must be a number of seconds or like 1h30m, got "${tok.text}"`);
  return v;
}

export interface AData { address: string }
export const A: RecordCodec<AData> = {
  type: RRType.A,
  fromWire(r) {
    if (r.remaining !== 4) r.fail('A RDATA must be 4 bytes');
    return { address: formatIPv4(r.bytes(4)) };
  },
  toWire(w, v) {
    w.bytes(parseIPv4(v.address)!);
  },
  fromText(t) {
    const tok = t.next('IPv4 address');
    const b = parseIPv4(tok.text);
    if (!b) throw t.error(tok, `"${tok.text}" is not an IPv4 address`);
    return { address: formatIPv4(b) };
  },
  toText: (v) => v.address,
};

export const AAAA: RecordCodec<AData> = {
  type: RRType.AAAA,
  fromWire(r) {
    if (r.remaining !== 16) r.fail('AAAA RDATA must be 16 bytes');
    return { address: formatIPv6(r.bytes(16)) };
  },
  toWire(w, v) {
    w.bytes(parseIPv6(v.address)!);
  },
  fromText(t) {
    const tok = t.next('IPv6 address');
    const b = parseIPv6(tok.text);
    if (!b) throw t.error(tok, `"${tok.text}" is not an IPv6 address`);
    return { address: formatIPv6(b) };
  },
  toText: (v) => v.address,
};

/** A single domain name RDATA (NS, CNAME, PTR, DNAME, ...). */
export interface NameData { target: Name }
export function nameCodec(type: number, compress: boolean, lowerInCanonical = true): RecordCodec<NameData> {
  return {
    type,
    fromWire: (r) => ({ target: r.name() }),
    toWire: (w, v, canonical) => w.name(v.target, compress && !canonical, canonical && lowerInCanonical),
    fromText: (t, origin) => ({ target: nameFromToken(t, t.next('domain name'), origin) }),
    toText: (v) => v.target.toString(),
  };
}

export interface SoaData {
  mname: Name; rname: Name; serial: number; refresh: number; retry: number; expire: number; minimum: number;
}
export const SOA: RecordCodec<SoaData> = {
  type: RRType.SOA,
  fromWire: (r) => ({
    mname: r.name(), rname: r.name(), serial: r.u32(), refresh: r.u32(), retry: r.u32(), expire: r.u32(), minimum: r.u32(),
  }),
  toWire(w, v, canonical) {
    w.name(v.mname, !canonical, canonical);
    w.name(v.rname, !canonical, canonical);
    w.u32(v.serial); w.u32(v.refresh); w.u32(v.retry); w.u32(v.expire); w.u32(v.minimum);
  },
  fromText(t, origin) {
    const mname = nameFromToken(t, t.next('primary server name (MNAME)'), origin);
    const rname = nameFromToken(t, t.next('responsible mailbox (RNAME)'), origin);
    const serial = parseUint(t, t.next('serial'), 0xffffffff, 'serial');
    const refresh = ttlFromToken(t, t.next('refresh'), 'refresh');
    const retry = ttlFromToken(t, t.next('retry'), 'retry');
    const expire = ttlFromToken(t, t.next('expire'), 'expire');
    const minimum = ttlFromToken(t, t.next('minimum'), 'minimum');
    return { mname, rname, serial, refresh, retry, expire, minimum };
  },
  toText: (v) => `${v.mname} ${v.rname} ${v.serial} ${v.refresh} ${v.retry} ${v.expire} ${v.minimum}`,
};

export interface MxData { preference: number; exchange: Name }
export const MX: RecordCodec<MxData> = {
  type: RRType.MX,
  fromWire: (r) => ({ preference: r.u16(), exchange: r.name() }),
  toWire(w, v, canonical) {
    w.u16(v.preference);
    w.name(v.exchange, !canonical, canonical);
  },
  fromText: (t, origin) => ({
    preference: parseUint(t, t.next('preference'), 0xffff, 'preference'),
    exchange: nameFromToken(t, t.next('mail exchange name'), origin),
  }),
  toText: (v) => `${v.preference} ${v.exchange}`,
};

/** TXT and SPF: one or more character-strings. */
export interface TxtData { strings: Uint8Array[] }
export function txtCodec(type: number): RecordCodec<TxtData> {
  return {
    type,
    fromWire(r) {
      const strings: Uint8Array[] = [];
      while (r.remaining > 0) strings.push(r.bytes(r.u8()));
      return { strings };
    },
    toWire(w, v) {
      for (const s of v.strings) {
        w.u8(s.length);
        w.bytes(s);
      }
    },
    fromText(t) {
      const strings: Uint8Array[] = [];
      while (!t.atEnd) strings.push(charStringFromToken(t, t.next('text')));
      if (strings.length === 0) throw t.error(undefined, 'missing text');
      return { strings };
    },
    toText: (v) => v.strings.map(charStringToText).join(' '),
  };
}

registerCodec(A);
registerCodec(AAAA);
registerCodec(nameCodec(RRType.NS, true));
registerCodec(nameCodec(RRType.CNAME, true));
registerCodec(nameCodec(RRType.PTR, true));
registerCodec(nameCodec(RRType.DNAME, false));
registerCodec(SOA);
registerCodec(MX);
registerCodec(txtCodec(RRType.TXT));
registerCodec(txtCodec(RRType.SPF));
