/**
 * The field-table engine: most record types are a fixed sequence of fields of a few kinds, so
 * one table line per type (`MX: [['preference','u16'], ['exchange','cname']]`) gives its wire,
 * canonical and presentation codecs. Odd types (SVCB, LOC, APL, WKS, ...) are hand-written in
 * their own files but reuse these kinds.
 */
import { typeFromString, typeToString } from '../constants.js';
import { Name } from '../name.js';
import type { WireReader } from '../reader.js';
import type { Token, Tokens } from '../tokens.js';
import type { WireWriter } from '../writer.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './address.js';
import { nameFromToken, ttlFromToken } from './text.js';
import { charStringFromToken, charStringToText, parseUint, registerCodec, unescapeText, type RecordCodec } from './codec.js';
import { base32hexDecode, base32hexEncode, base64Decode, base64Encode, hexDecode, hexEncode } from './encoding.js';
import { algorithmFromString, certTypeFromString, certTypeToString, tsigErrorFromString, tsigErrorToString } from './mnemonics.js';

/** How names are written: `lower` is true for the types RFC 4034 §6.2 (RFC 6840 §5.1) lists. */
export interface WriteContext {
  readonly canonical: boolean;
  readonly lower: boolean;
}

/** One field kind: how a value is read, written, parsed and printed. */
export interface FieldKind<V> {
  read(r: WireReader): V;
  write(w: WireWriter, v: V, ctx: WriteContext): void;
  /** `what` names the field in error messages ("missing preference"). */
  parse(t: Tokens, origin: Name, what?: string): V;
  print(v: V): string;
  /** Consumes the rest of the RDATA (must be the last field). */
  readonly toEnd?: boolean;
}

function uint(bytes: 1 | 2 | 4, what: string): FieldKind<number> {
  const max = bytes === 1 ? 0xff : bytes === 2 ? 0xffff : 0xffffffff;
  return {
    read: (r) => (bytes === 1 ? r.u8() : bytes === 2 ? r.u16() : r.u32()),
    write: (w, v) => (bytes === 1 ? w.u8(v) : bytes === 2 ? w.u16(v) : w.u32(v)),
    parse: (t, _o, field = what) => parseUint(t, t.next(field), max, field),
    print: (v) => String(v),
  };
}

/** A number field that also accepts a mnemonic (`RSASHA256`, `PKIX`, `BADSIG`). */
function mnemonicUint(bytes: 1 | 2, what: string, fromText: (s: string) => number | undefined, toText: (v: number) => string = String): FieldKind<number> {
  const base = uint(bytes, what);
  const max = bytes === 1 ? 0xff : 0xffff;
  return {
    ...base,
    parse(t, _o, field = what) {
      const tok = t.next(field);
      if (/^[0-9]+$/.test(tok.text)) return parseUint(t, tok, max, field);
      const v = fromText(tok.text);
      if (v === undefined) throw t.error(tok, `unknown ${field} "${tok.text}"`);
      return v;
    },
    print: toText,
  };
}

/** A 48-bit unsigned integer (TSIG/SIG time signed), held as a JS number. */
const u48: FieldKind<number> = {
  read: (r) => r.u16() * 0x100000000 + r.u32(),
  write(w, v) {
    w.u16(Math.floor(v / 0x100000000));
    w.u32(v % 0x100000000);
  },
  parse(t) {
    const tok = t.next('48-bit time');
    if (!/^[0-9]{1,15}$/.test(tok.text) || Number(tok.text) > 0xffffffffffff) throw t.error(tok, `"${tok.text}" is not a 48-bit number`);
    return Number(tok.text);
  },
  print: (v) => String(v),
};

const ttl: FieldKind<number> = {
  ...uint(4, 'TTL'),
  parse: (t, _o, what = 'time value') => ttlFromToken(t, t.next(what), what),
};

/**
 * RRSIG/SIG time (RFC 4034 §3.2): `YYYYMMDDHHmmSS` in UTC, or a plain number of seconds.
 * Held as the 32-bit wire value (serial arithmetic is the caller's business).
 */
export const timeKind: FieldKind<number> = {
  ...uint(4, 'time'),
  parse(t, _o, what = 'signature time') {
    const tok = t.next(what);
    const v = parseSigTime(tok.text);
    if (v === undefined) throw t.error(tok, `"${tok.text}" is not a YYYYMMDDHHmmSS time or a number of seconds`);
    return v;
  },
  print: formatSigTime,
};

export function parseSigTime(text: string): number | undefined {
  const m = /^([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})$/.exec(text);
  if (m) {
    const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
    if (mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h! > 23 || mi! > 59 || s! > 60) return undefined;
    const ms = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
    if (new Date(ms).getUTCDate() !== d) return undefined;
    return ((ms / 1000) % 0x100000000 + 0x100000000) % 0x100000000;
  }
  if (/^[0-9]{1,10}$/.test(text) && Number(text) <= 0xffffffff) return Number(text);
  return undefined;
}

export function formatSigTime(v: number): string {
  const d = new Date(v * 1000);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** A domain name; `compress` for the RFC 1035 types only (RFC 3597 §4). */
function nameKind(compress: boolean): FieldKind<Name> {
  return {
    read: (r) => r.name(),
    write: (w, v, ctx) => w.name(ctx.canonical && ctx.lower ? v.toLowerCase() : v, compress && !ctx.canonical, false),
    parse: (t, origin, what = 'domain name') => nameFromToken(t, t.next(what), origin),
    print: (v) => v.toString(),
  };
}

const ipv4: FieldKind<string> = {
  read: (r) => formatIPv4(r.bytes(4)),
  write: (w, v) => w.bytes(mustAddress(parseIPv4(v), v)),
  parse(t) {
    const tok = t.next('IPv4 address');
    const b = parseIPv4(tok.text);
    if (!b) throw t.error(tok, `"${tok.text}" is not an IPv4 address`);
    return formatIPv4(b);
  },
  print: (v) => v,
};

const ipv6: FieldKind<string> = {
  read: (r) => formatIPv6(r.bytes(16)),
  write: (w, v) => w.bytes(mustAddress(parseIPv6(v), v)),
  parse(t) {
    const tok = t.next('IPv6 address');
    const b = parseIPv6(tok.text);
    if (!b) throw t.error(tok, `"${tok.text}" is not an IPv6 address`);
    return formatIPv6(b);
  },
  print: (v) => v,
};

export function mustAddress(b: Uint8Array | undefined, text: string): Uint8Array {
  if (!b) throw new RangeError(`bad address "${text}" in record data`);
  return b;
}

/** RFC 1035 <character-string>: length byte and up to 255 bytes. */
export const charString: FieldKind<Uint8Array> = {
  read: (r) => r.bytes(r.u8()),
  write(w, v) {
    if (v.length > 255) throw new RangeError('character-string longer than 255 bytes');
    w.u8(v.length);
    w.bytes(v);
  },
  parse: (t, _o, what = 'character-string') => charStringFromToken(t, t.next(what)),
  print: charStringToText,
};

/** One or more character-strings up to the end (TXT-like). */
const charStrings: FieldKind<Uint8Array[]> = {
  toEnd: true,
  read(r) {
    const out: Uint8Array[] = [];
    while (r.remaining > 0) out.push(r.bytes(r.u8()));
    return out;
  },
  write(w, v, ctx) {
    for (const s of v) charString.write(w, s, ctx);
  },
  parse(t) {
    const out: Uint8Array[] = [];
    while (!t.atEnd) out.push(charStringFromToken(t, t.next('text')));
    if (out.length === 0) throw t.error(undefined, 'missing text');
    return out;
  },
  print: (v) => v.map(charStringToText).join(' '),
};

/** Bytes up to the end, shown as one quoted string without a length (CAA value, URI target). */
const textToEnd: FieldKind<Uint8Array> = {
  toEnd: true,
  read: (r) => r.rest(),
  write: (w, v) => w.bytes(v),
  parse: (t) => unescapeText(t, t.next('text')),
  print: charStringToText,
};

function joinedTokens(t: Tokens): { text: string; first: Token | undefined } {
  const rest = t.rest();
  return { text: rest.map((x) => x.text).join(''), first: rest[0] };
}

/** Base64 up to the end; the text may be split into several tokens. */
const base64: FieldKind<Uint8Array> = {
  toEnd: true,
  read: (r) => r.rest(),
  write: (w, v) => w.bytes(v),
  parse(t) {
    const { text, first } = joinedTokens(t);
    if (text === '-' ) return new Uint8Array(0);
    const b = base64Decode(text);
    if (!b) throw t.error(first, 'bad base64 data');
    return b;
  },
  print: base64Encode,
};

/** Hex up to the end, split into tokens allowed; printed upper-case like BIND. */
const hex: FieldKind<Uint8Array> = {
  toEnd: true,
  read: (r) => r.rest(),
  write: (w, v) => w.bytes(v),
  parse(t) {
    const { text, first } = joinedTokens(t);
    if (text === '-') return new Uint8Array(0);
    const b = hexDecode(text);
    if (!b) throw t.error(first, 'bad hex data (need an even number of hex digits)');
    return b;
  },
  print: (v) => hexEncode(v),
};

/** Hex with a length byte; `-` for empty (NSEC3 salt). */
const hex8: FieldKind<Uint8Array> = {
  read: (r) => r.bytes(r.u8()),
  write(w, v) {
    w.u8(v.length);
    w.bytes(v);
  },
  parse(t) {
    const tok = t.next('hex string');
    if (tok.text === '-') return new Uint8Array(0);
    const b = hexDecode(tok.text);
    if (!b) throw t.error(tok, `"${tok.text}" is not hex`);
    if (b.length > 255) throw t.error(tok, 'hex string longer than 255 bytes');
    return b;
  },
  print: (v) => (v.length === 0 ? '-' : hexEncode(v)),
};

/** Base32hex with a length byte (NSEC3 next hashed owner name). */
const base32hex8: FieldKind<Uint8Array> = {
  read: (r) => {
    const n = r.u8();
    if (n === 0) r.fail('empty NSEC3 next hashed owner name');
    return r.bytes(n);
  },
  write(w, v) {
    w.u8(v.length);
    w.bytes(v);
  },
  parse(t) {
    const tok = t.next('base32hex hash');
    const b = base32hexDecode(tok.text);
    if (!b || b.length === 0 || b.length > 255) throw t.error(tok, `"${tok.text}" is not a base32hex hash`);
    return b;
  },
  print: base32hexEncode,
};

/** Bytes with a u16 length, text `LEN BASE64` (TSIG/TKEY MAC, key, other data). */
const base64With16: FieldKind<Uint8Array> = {
  read: (r) => r.bytes(r.u16()),
  write(w, v) {
    w.u16(v.length);
    w.bytes(v);
  },
  parse(t) {
    const lenTok = t.next('data length');
    const len = parseUint(t, lenTok, 0xffff, 'data length');
    if (len === 0) return new Uint8Array(0);
    const tok = t.next('base64 data');
    const b = base64Decode(tok.text);
    if (!b) throw t.error(tok, 'bad base64 data');
    if (b.length !== len) throw t.error(lenTok, `length ${len} but ${b.length} bytes of data`);
    return b;
  },
  print: (v) => (v.length === 0 ? '0' : `${v.length} ${base64Encode(v)}`),
};

// ---- type bitmaps ----

/** NSEC/NSEC3/CSYNC type bitmap (RFC 4034 §4.1.2): window blocks, types held sorted. */
export const typeBitmap: FieldKind<number[]> = {
  toEnd: true,
  read(r) {
    const types: number[] = [];
    let last = -1;
    while (r.remaining > 0) {
      const at = r.pos;
      const window = r.u8();
      const len = r.u8();
      if (window <= last) r.fail('type bitmap windows out of order', at);
      if (len < 1 || len > 32) r.fail(`type bitmap window length ${len} not in 1..32`, at);
      const bits = r.bytes(len);
      if (bits[len - 1] === 0) r.fail('type bitmap window ends in a zero byte', at);
      for (let i = 0; i < len; i++) for (let b = 0; b < 8; b++) if (bits[i]! & (0x80 >> b)) types.push(window * 256 + i * 8 + b);
      last = window;
    }
    return types;
  },
  write(w, v) {
    const sorted = [...new Set(v)].sort((a, b) => a - b);
    let i = 0;
    while (i < sorted.length) {
      const window = sorted[i]! >> 8;
      const bits = new Uint8Array(32);
      let len = 0;
      while (i < sorted.length && sorted[i]! >> 8 === window) {
        const low = sorted[i]! & 0xff;
        bits[low >> 3]! |= 0x80 >> (low & 7);
        len = (low >> 3) + 1;
        i++;
      }
      w.u8(window);
      w.u8(len);
      w.bytes(bits.subarray(0, len));
    }
  },
  parse(t) {
    const out: number[] = [];
    for (const tok of t.rest()) {
      const v = typeFromString(tok.text);
      if (v === undefined) throw t.error(tok, `unknown record type "${tok.text}" in type bitmap`);
      out.push(v);
    }
    return [...new Set(out)].sort((a, b) => a - b);
  },
  print: (v) => v.map(typeToString).join(' '),
};

/** The RFC 2535 NXT bitmap: one block for types 0..127, bit 0 unused. */
const nxtBitmap: FieldKind<number[]> = {
  toEnd: true,
  read(r) {
    const bits = r.rest();
    if (bits.length > 16) r.fail('NXT bitmap longer than 16 bytes');
    const types: number[] = [];
    for (let i = 0; i < bits.length; i++) for (let b = 0; b < 8; b++) if (bits[i]! & (0x80 >> b)) types.push(i * 8 + b);
    return types;
  },
  write(w, v) {
    const max = v.reduce((m, x) => Math.max(m, x), 0);
    if (max > 127) throw new RangeError('NXT bitmap cannot hold types above 127');
    const bits = new Uint8Array((max >> 3) + 1);
    for (const x of v) bits[x >> 3]! |= 0x80 >> (x & 7);
    w.bytes(bits);
  },
  parse(t) {
    const out: number[] = [];
    for (const tok of t.rest()) {
      const v = typeFromString(tok.text);
      if (v === undefined || v > 127) throw t.error(tok, `"${tok.text}" cannot appear in an NXT bitmap`);
      out.push(v);
    }
    return [...new Set(out)].sort((a, b) => a - b);
  },
  print: (v) => v.map(typeToString).join(' '),
};

// ---- small fixed-format identifiers ----

/** EUI-48 / EUI-64 (RFC 7043): `xx-xx-...`, held as that lower-case text. */
function euiKind(bytes: 6 | 8): FieldKind<string> {
  const re = new RegExp(`^[0-9a-fA-F]{2}(-[0-9a-fA-F]{2}){${bytes - 1}}$`);
  return {
    read: (r) => [...r.bytes(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('-'),
    write: (w, v) => w.bytes(hexDecode(v.replace(/-/g, ''))!),
    parse(t) {
      const tok = t.next(`EUI-${bytes * 8} address`);
      if (!re.test(tok.text)) throw t.error(tok, `"${tok.text}" is not an EUI-${bytes * 8} address (xx-xx-...)`);
      return tok.text.toLowerCase();
    },
    print: (v) => v,
  };
}

/** ILNP 64-bit identifier/locator (RFC 6742): four groups of four hex digits, lower case. */
const ilnp64: FieldKind<string> = {
  read(r) {
    const b = r.bytes(8);
    const g: string[] = [];
    for (let i = 0; i < 8; i += 2) g.push(((b[i]! << 8) | b[i + 1]!).toString(16).padStart(4, '0'));
    return g.join(':');
  },
  write: (w, v) => w.bytes(hexDecode(v.split(':').map((x) => x.padStart(4, '0')).join(''))!),
  parse(t) {
    const tok = t.next('64-bit locator');
    if (!/^[0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4}){3}$/.test(tok.text)) throw t.error(tok, `"${tok.text}" is not four groups of hex digits`);
    return tok.text.split(':').map((x) => x.toLowerCase().padStart(4, '0')).join(':');
  },
  print: (v) => v,
};

/** NSAP address (RFC 1706): `0x` and hex digits, dots allowed as separators. */
const nsap: FieldKind<Uint8Array> = {
  toEnd: true,
  read: (r) => r.rest(),
  write: (w, v) => w.bytes(v),
  parse(t) {
    const tok = t.next('NSAP address');
    const m = /^0x([0-9a-fA-F.]+)$/i.exec(tok.text);
    const b = m ? hexDecode(m[1]!.replace(/\./g, '')) : undefined;
    if (!b || b.length === 0) throw t.error(tok, `"${tok.text}" is not an NSAP address (0x...)`);
    return b;
  },
  print: (v) => '0x' + hexEncode(v, false),
};

/** CAA tag (RFC 8659 §4.1.1): length byte and letters/digits, printed bare. */
const caaTag: FieldKind<string> = {
  read(r) {
    const n = r.u8();
    if (n === 0) r.fail('empty CAA tag');
    const b = r.bytes(n);
    return String.fromCharCode(...b);
  },
  write(w, v) {
    w.u8(v.length);
    for (let i = 0; i < v.length; i++) w.u8(v.charCodeAt(i));
  },
  parse(t) {
    const tok = t.next('CAA tag');
    if (!/^[A-Za-z0-9]{1,255}$/.test(tok.text)) throw t.error(tok, `CAA tag "${tok.text}" must be letters and digits`);
    return tok.text;
  },
  // A tag read from the wire may hold any byte; keep the text reparseable where possible.
  print: (v) => (/^[A-Za-z0-9]+$/.test(v) ? v : charStringToText(Uint8Array.from(v, (c) => c.charCodeAt(0)))),
};

/** The field kinds a table may use. */
export const kinds = {
  u8: uint(1, 'number'),
  u16: uint(2, 'number'),
  u32: uint(4, 'number'),
  u48,
  ttl,
  time: timeKind,
  /** DNSSEC algorithm: number or mnemonic on input, number on output. */
  algorithm: mnemonicUint(1, 'algorithm', algorithmFromString),
  /** CERT type: number or mnemonic on input, mnemonic when known on output. */
  certType: mnemonicUint(2, 'certificate type', certTypeFromString, certTypeToString),
  /** TSIG/TKEY error: number or rcode mnemonic (16 is BADSIG). */
  tsigError: mnemonicUint(2, 'error', tsigErrorFromString, tsigErrorToString),
  /** DSYNC scheme (draft-ietf-dnsop-generalized-notify §2): number, or NOTIFY for 1. */
  dsyncScheme: mnemonicUint(1, 'scheme', (s) => (s.toUpperCase() === 'NOTIFY' ? 1 : undefined), (v) => (v === 1 ? 'NOTIFY' : String(v))),
  /** A record type covered (RRSIG/SIG), by mnemonic. */
  type: mnemonicUint(2, 'record type', typeFromString, typeToString),
  /** Name, never compressed. */
  name: nameKind(false),
  /** Name, compressed outside canonical form (RFC 1035 types only). */
  cname: nameKind(true),
  ipv4,
  ipv6,
  string: charString,
  strings: charStrings,
  textToEnd,
  base64,
  hex,
  hex8,
  base32hex8,
  base64With16,
  typeBitmap,
  nxtBitmap,
  eui48: euiKind(6),
  eui64: euiKind(8),
  ilnp64,
  nsap,
  caaTag,
} satisfies Record<string, FieldKind<any>>;

export type KindName = keyof typeof kinds;

/**
 * `[field, kind]`, `[field, kind, 'optional']` (optional fields may only end the table) or
 * `[field, kind, {label, optional}]`; `label` names the field in errors (default: the field
 * name in words, `keyTag` -> "key tag").
 */
export type FieldSpec = readonly [string, KindName] | readonly [string, KindName, 'optional' | { readonly label?: string; readonly optional?: boolean }];

const words = (field: string): string => field.replace(/[A-Z]/g, (c) => ' ' + c.toLowerCase());

export interface TableOptions {
  /** Names are lower-cased in canonical form (RFC 4034 §6.2 as amended by RFC 6840 §5.1). */
  readonly lower?: boolean;
}

/**
 * A codec from a field table. The data is a plain object with one property per field; an
 * optional field absent from the RDATA is absent from the object.
 */
export function tableCodec<T extends object>(type: number, fields: readonly FieldSpec[], opts: TableOptions = {}): RecordCodec<T> {
  const resolved = fields.map(([field, kind, opt]) => ({
    field,
    kind: kinds[kind] as FieldKind<any>,
    optional: opt === 'optional' || (typeof opt === 'object' && opt.optional === true),
    label: (typeof opt === 'object' && opt.label) || words(field),
  }));
  const lower = opts.lower ?? false;
  return {
    type,
    fromWire(r) {
      const out: Record<string, unknown> = {};
      for (const f of resolved) {
        if (f.optional && r.remaining === 0) break;
        out[f.field] = f.kind.read(r);
      }
      return out as T;
    },
    toWire(w, v, canonical) {
      const ctx: WriteContext = { canonical, lower };
      const data = v as Record<string, unknown>;
      for (const f of resolved) {
        const x = data[f.field];
        if (x === undefined) {
          if (f.optional) break;
          throw new RangeError(`record data lacks field "${f.field}"`);
        }
        f.kind.write(w, x, ctx);
      }
    },
    fromText(t, origin) {
      const out: Record<string, unknown> = {};
      for (const f of resolved) {
        if (f.optional && t.atEnd) break;
        out[f.field] = f.kind.parse(t, origin, f.label);
      }
      return out as T;
    },
    toText(v) {
      const data = v as Record<string, unknown>;
      const parts: string[] = [];
      for (const f of resolved) {
        const x = data[f.field];
        if (x === undefined) break;
        const s = f.kind.print(x);
        if (s !== '') parts.push(s);
      }
      return parts.join(' ');
    },
  };
}

/** Defines and registers a table codec. */
export function defineTable<T extends object>(type: number, fields: readonly FieldSpec[], opts?: TableOptions): RecordCodec<T> {
  const c = tableCodec<T>(type, fields, opts);
  registerCodec(c);
  return c;
}


