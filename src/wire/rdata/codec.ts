import { TextError } from '../errors.js';
import type { Name } from '../name.js';
import { WireReader } from '../reader.js';
import type { Token, Tokens } from '../tokens.js';
import { WireWriter } from '../writer.js';
import { typeToString } from '../constants.js';

/**
 * Wire and presentation codec of one record type's RDATA.
 *
 * `fromWire` gets a reader whose `end` is the end of the RDATA (names may still point earlier in
 * the message). `toWire` with `canonical` writes the RFC 4034 §6.2 canonical form: names in the
 * types listed there lower-cased, and no name compressed.
 */
export interface RecordCodec<T = unknown> {
  readonly type: number;
  fromWire(r: WireReader): T;
  toWire(w: WireWriter, v: T, canonical: boolean): void;
  fromText(t: Tokens, origin: Name): T;
  toText(v: T, origin?: Name): string;
}

const registry = new Map<number, RecordCodec<any>>();

export function registerCodec(codec: RecordCodec<any>): void {
  registry.set(codec.type, codec);
}

/** The codec of a type; types without one get the RFC 3597 opaque codec. */
export function codecFor(type: number): RecordCodec<any> {
  return registry.get(type) ?? opaqueCodec(type);
}

export function hasCodec(type: number): boolean {
  return registry.has(type);
}

/** Opaque RDATA, as RFC 3597 requires for unknown types: `\# <len> <hex>`. */
export type OpaqueData = Uint8Array;

const opaqueCache = new Map<number, RecordCodec<OpaqueData>>();
function opaqueCodec(type: number): RecordCodec<OpaqueData> {
  let c = opaqueCache.get(type);
  if (!c) {
    c = {
      type,
      fromWire: (r) => r.rest(),
      toWire: (w, v) => w.bytes(v),
      fromText: (t) => genericFromText(t),
      toText: (v) => genericToText(v),
    };
    opaqueCache.set(type, c);
  }
  return c;
}

/** Parses RDATA text, accepting the RFC 3597 generic form for every type. */
export function rdataFromText(type: number, t: Tokens, origin: Name): unknown {
  const first = t.peek();
  const codec = codecFor(type);
  if (first && !first.quoted && first.text === '\\#') {
    const bytes = genericFromText(t);
    if (!hasCodec(type)) return bytes;
    try {
      return decodeRdata(type, bytes);
    } catch (e) {
      throw t.error(first, `generic RDATA is not valid ${typeToString(type)}: ${(e as Error).message}`);
    }
  }
  const v = codec.fromText(t, origin);
  t.expectEnd();
  return v;
}

export function rdataToText(type: number, data: unknown, origin?: Name): string {
  return codecFor(type).toText(data, origin);
}

/** Decodes standalone RDATA bytes (no compression pointers possible). */
export function decodeRdata(type: number, bytes: Uint8Array): unknown {
  const r = new WireReader(bytes);
  const v = codecFor(type).fromWire(r);
  if (r.pos !== r.end) r.fail('RDATA longer than its fields');
  return v;
}

/** Uncompressed RDATA bytes; `canonical` for DNSSEC. */
export function encodeRdata(type: number, data: unknown, canonical = false): Uint8Array {
  // A standalone RDATA has nothing to point into: compression off.
  const w = new WireWriter(65535, 64, false);
  codecFor(type).toWire(w, data, canonical);
  return w.finish();
}

function genericFromText(t: Tokens): Uint8Array {
  const mark = t.next('"\\#"');
  if (mark.text !== '\\#' || mark.quoted) throw t.error(mark, 'expected "\\#" (RFC 3597 generic RDATA)');
  const lenTok = t.next('RDATA length');
  const len = parseUint(t, lenTok, 0xffff, 'RDATA length');
  const hex = t.rest().map((x) => x.text).join('');
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2) throw t.error(lenTok, 'generic RDATA is not an even number of hex digits');
  if (hex.length / 2 !== len) throw t.error(lenTok, `generic RDATA length ${len} but ${hex.length / 2} bytes given`);
  return hexToBytes(hex);
}

function genericToText(v: Uint8Array): string {
  return v.length === 0 ? '\\# 0' : `\\# ${v.length} ${bytesToHex(v)}`;
}

// ---- small text helpers shared by the codecs ----

export function parseUint(t: Tokens, tok: Token, max: number, what: string): number {
  if (!/^[0-9]+$/.test(tok.text)) throw t.error(tok, `${what} must be a number, got "${tok.text}"`);
  const v = Number(tok.text);
  if (v > max) throw t.error(tok, `${what} ${tok.text} is above ${max}`);
  return v;
}

export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export function bytesToHex(b: Uint8Array, upper = true): string {
  const s = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  return upper ? s.toUpperCase() : s;
}

/** RFC 1035 <character-string> from a token: escapes `\X` and `\DDD` decoded, at most 255 bytes. */
export function charStringFromToken(t: Tokens, tok: Token): Uint8Array {
  const bytes = unescapeText(t, tok);
  if (bytes.length > 255) throw t.error(tok, 'character-string longer than 255 bytes');
  return bytes;
}

export function unescapeText(t: Tokens, tok: Token): Uint8Array {
  const s = tok.text;
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) {
      if (i + 1 >= s.length) throw t.error(tok, 'dangling backslash');
      const d = s.charCodeAt(i + 1);
      if (d >= 0x30 && d <= 0x39) {
        const ddd = s.slice(i + 1, i + 4);
        if (!/^[0-9]{3}$/.test(ddd) || Number(ddd) > 255) throw t.error(tok, `bad escape "\\${ddd}"`);
        out.push(Number(ddd));
        i += 3;
      } else {
        pushUtf8(out, s.codePointAt(i + 1)!);
        i += s.codePointAt(i + 1)! > 0xffff ? 2 : 1;
      }
    } else if (c < 0x80) out.push(c);
    else {
      const cp = s.codePointAt(i)!;
      pushUtf8(out, cp);
      if (cp > 0xffff) i++;
    }
  }
  return Uint8Array.from(out);
}

function pushUtf8(out: number[], cp: number): void {
  for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out.push(b);
}

/** Quoted presentation of a character-string, escaping `"` `\` and non-printable bytes. */
export function charStringToText(b: Uint8Array): string {
  let s = '"';
  for (const c of b) {
    if (c === 0x22 || c === 0x5c) s += '\\' + String.fromCharCode(c);
    else if (c < 0x20 || c >= 0x7f) s += '\\' + String(c).padStart(3, '0');
    else s += String.fromCharCode(c);
  }
  return s + '"';
}

export function textError(reason: string): TextError {
  return new TextError(reason);
}
