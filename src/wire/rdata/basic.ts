import { RRType } from '../constants.js';
import type { Name } from '../name.js';
import { canonicalIPv4, canonicalIPv6, formatIPv4, formatIPv6, ipv4Number, parseIPv4, parseIPv6 } from './address.js';
import { charStringFromToken, charStringToText, registerCodec, type RecordCodec } from './codec.js';
import { defineTable } from './fields.js';

export { nameFromToken, parseTtlText, ttlFromToken } from './text.js';

export interface AData { address: string }
export const A: RecordCodec<AData> = {
  type: RRType.A,
  fromWire(r) {
    if (r.remaining !== 4) r.fail('A RDATA must be 4 bytes');
    return { address: formatIPv4(r.bytes(4)) };
  },
  toWire(w, v) {
    // As one number: no 4-byte array per record (a zone transfer writes hundreds of thousands).
    const n = ipv4Number(v.address);
    if (n === undefined) w.bytes(parseIPv4(v.address)!); // not an address: fails as before
    else w.u32(n);
  },
  fromText(t) {
    const tok = t.next('IPv4 address');
    const address = canonicalIPv4(tok.text);
    if (address === undefined) throw t.error(tok, `"${tok.text}" is not an IPv4 address`);
    return { address };
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
    const address = canonicalIPv6(tok.text);
    if (address === undefined) throw t.error(tok, `"${tok.text}" is not an IPv6 address`);
    return { address };
  },
  toText: (v) => v.address,
};

/** A single domain name RDATA (NS, CNAME, PTR, DNAME). */
export interface NameData { target: Name }

/** SOA (RFC 1035 §3.3.13); the timers accept BIND's `1h30m` form on input. */
export interface SoaData {
  mname: Name; rname: Name; serial: number; refresh: number; retry: number; expire: number; minimum: number;
}

/** MX (RFC 1035 §3.3.9). */
export interface MxData { preference: number; exchange: Name }

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
const lower = { lower: true } as const;
export const NS = defineTable<NameData>(RRType.NS, [['target', 'cname', { label: 'domain name' }]], lower);
export const CNAME = defineTable<NameData>(RRType.CNAME, [['target', 'cname', { label: 'domain name' }]], lower);
export const PTR = defineTable<NameData>(RRType.PTR, [['target', 'cname', { label: 'domain name' }]], lower);
// DNAME (RFC 6672 §2.5): never compressed, lower-cased in canonical form.
export const DNAME = defineTable<NameData>(RRType.DNAME, [['target', 'name', { label: 'domain name' }]], lower);
export const SOA = defineTable<SoaData>(RRType.SOA, [
  ['mname', 'cname', { label: 'primary server name (MNAME)' }], ['rname', 'cname', { label: 'responsible mailbox (RNAME)' }],
  ['serial', 'u32'], ['refresh', 'ttl'], ['retry', 'ttl'], ['expire', 'ttl'], ['minimum', 'ttl'],
], lower);
export const MX = defineTable<MxData>(RRType.MX, [['preference', 'u16'], ['exchange', 'cname', { label: 'mail exchange name' }]], lower);
registerCodec(txtCodec(RRType.TXT));
registerCodec(txtCodec(RRType.SPF));
