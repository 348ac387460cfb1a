import { createHmac, timingSafeEqual } from 'node:crypto';
import { Name, Rcode, RRClass, RRType, WireError, WireReader, WireWriter } from '../wire/index.js';

/**
 * TSIG (RFC 8945): shared-secret signatures on messages, for transfers, NOTIFY and UPDATE.
 *
 * This module works on raw message bytes on purpose: the MAC covers the message exactly as sent,
 * so signing appends a TSIG record to encoded bytes and verification reads the TSIG record off
 * the end of received bytes, never re-encoding anything.
 */

export const TSIG_ALGORITHMS = {
  'hmac-md5': { wire: 'hmac-md5.sig-alg.reg.int.', hash: 'md5', size: 16 },
  'hmac-sha1': { wire: 'hmac-sha1.', hash: 'sha1', size: 20 },
  'hmac-sha224': { wire: 'hmac-sha224.', hash: 'sha224', size: 28 },
  'hmac-sha256': { wire: 'hmac-sha256.', hash: 'sha256', size: 32 },
  'hmac-sha384': { wire: 'hmac-sha384.', hash: 'sha384', size: 48 },
  'hmac-sha512': { wire: 'hmac-sha512.', hash: 'sha512', size: 64 },
} as const;
export type TsigAlgorithm = keyof typeof TSIG_ALGORITHMS;

export interface TsigKey {
  /** Key name as configured (e.g. `xfr-key`); compared case-insensitively. */
  readonly name: Name;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Uint8Array;
}

/** Builds a key from config text; `secret` is base64. */
export function makeTsigKey(name: string, algorithm: string, secretBase64: string): TsigKey {
  const alg = algorithm.toLowerCase().replace(/\.$/, '').replace(/\.sig-alg\.reg\.int$/, '') as TsigAlgorithm;
  if (!(alg in TSIG_ALGORITHMS)) throw new Error(`unknown TSIG algorithm "${algorithm}" (use ${Object.keys(TSIG_ALGORITHMS).join(', ')})`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(secretBase64)) throw new Error(`TSIG secret for "${name}" is not base64`);
  return { name: Name.parse(name.endsWith('.') ? name : name + '.'), algorithm: alg, secret: Buffer.from(secretBase64, 'base64') };
}

/** The TSIG record of a message, as read off its end. */
export interface TsigRecord {
  keyName: Name;
  algorithm: Name;
  timeSigned: number;
  fudge: number;
  mac: Uint8Array;
  originalId: number;
  error: number;
  other: Uint8Array;
  /** Offset where the TSIG RR starts in the raw message (the MAC covers bytes before it). */
  offset: number;
}

/** Finds and decodes the TSIG record, which must be the last additional record (RFC 8945 §5.1). */
export function readTsig(raw: Uint8Array): TsigRecord | undefined {
  if (raw.length < 12) return undefined;
  const counts = [4, 6, 8, 10].map((i) => (raw[i]! << 8) | raw[i + 1]!);
  const ar = counts[3]!;
  if (ar === 0) return undefined;
  const r = new WireReader(raw, 12);
  for (let i = 0; i < counts[0]!; i++) {
    r.name();
    r.pos += 4;
  }
  const total = counts[1]! + counts[2]! + ar;
  let lastStart = -1;
  let lastType = -1;
  for (let i = 0; i < total; i++) {
    lastStart = r.pos;
    r.name();
    lastType = r.u16();
    r.pos += 6;
    const len = r.u16();
    if (r.pos + len > raw.length) throw new WireError('record runs past the end', r.pos);
    if (lastType === RRType.TSIG && i !== total - 1) throw new WireError('TSIG is not the last record', lastStart);
    r.pos += len;
  }
  if (lastType !== RRType.TSIG) return undefined;
  const t = new WireReader(raw, lastStart);
  const keyName = t.name();
  t.pos += 10; // type, class, ttl, rdlength
  const algorithm = t.name();
  const hi = t.u16();
  const lo = t.u32();
  const timeSigned = hi * 2 ** 32 + lo;
  const fudge = t.u16();
  const mac = t.bytes(t.u16());
  const originalId = t.u16();
  const error = t.u16();
  const other = t.bytes(t.u16());
  return { keyName, algorithm, timeSigned, fudge, mac, originalId, error, other, offset: lastStart };
}

interface Variables {
  keyName: Name;
  algorithm: Name;
  timeSigned: number;
  fudge: number;
  error: number;
  other: Uint8Array;
}

function writeTime(w: WireWriter, t: number): void {
  w.u16(Math.floor(t / 2 ** 32));
  w.u32(t >>> 0);
}

/** RFC 8945 §4.3.3 digest components after the message: the TSIG variables. */
function variables(v: Variables, timersOnly: boolean): Uint8Array {
  const w = new WireWriter(1024, 128);
  if (!timersOnly) {
    w.name(v.keyName, false, true);
    w.u16(RRClass.ANY);
    w.u32(0);
    w.name(v.algorithm, false, true);
  }
  writeTime(w, v.timeSigned);
  w.u16(v.fudge);
  if (!timersOnly) {
    w.u16(v.error);
    w.u16(v.other.length);
    w.bytes(v.other);
  }
  return w.finish();
}

function lengthPrefixed(mac: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + mac.length);
  out[0] = mac.length >> 8;
  out[1] = mac.length & 0xff;
  out.set(mac, 2);
  return out;
}

function computeMac(key: TsigKey, parts: Uint8Array[]): Uint8Array {
  const h = createHmac(TSIG_ALGORITHMS[key.algorithm].hash, key.secret);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** The message bytes with the TSIG removed, ARCOUNT decremented and the original ID restored. */
function unsignedPart(raw: Uint8Array, tsig: TsigRecord): Uint8Array {
  // A copy: Buffer.slice would return a view and the caller's bytes would change under it.
  const m = Uint8Array.prototype.slice.call(raw, 0, tsig.offset);
  const ar = ((m[10]! << 8) | m[11]!) - 1;
  m[10] = ar >> 8;
  m[11] = ar & 0xff;
  m[0] = tsig.originalId >> 8;
  m[1] = tsig.originalId & 0xff;
  return m;
}

export interface SignOptions {
  /** The request's MAC when signing a response (RFC 8945 §4.3.3). */
  requestMac?: Uint8Array;
  /** Previous MAC in a multi-message stream: sign with timers only (§5.3.1). */
  priorMac?: Uint8Array;
  /** Messages since the last signed one in the stream, unsigned (§5.3.1 "every 100"). */
  between?: Uint8Array[];
  error?: number;
  other?: Uint8Array;
  /** Seconds since the epoch. */
  now?: number;
  fudge?: number;
  /** BADKEY/BADSIG responses carry an empty MAC (§5.3.2). */
  emptyMac?: boolean;
}

/** Appends a TSIG record to an encoded message; returns the new bytes and the MAC. */
export function signMessage(raw: Uint8Array, key: TsigKey, opts: SignOptions = {}): { wire: Uint8Array; mac: Uint8Array } {
  const vars: Variables = {
    keyName: key.name,
    algorithm: Name.parse(TSIG_ALGORITHMS[key.algorithm].wire),
    timeSigned: opts.now ?? Math.floor(Date.now() / 1000),
    fudge: opts.fudge ?? 300,
    error: opts.error ?? 0,
    other: opts.other ?? new Uint8Array(0),
  };
  let mac: Uint8Array = new Uint8Array(0);
  if (!opts.emptyMac) {
    const parts: Uint8Array[] = [];
    if (opts.priorMac) {
      parts.push(lengthPrefixed(opts.priorMac));
      for (const b of opts.between ?? []) parts.push(b);
      parts.push(raw);
      parts.push(variables(vars, true));
    } else {
      if (opts.requestMac) parts.push(lengthPrefixed(opts.requestMac));
      parts.push(raw);
      parts.push(variables(vars, false));
    }
    mac = computeMac(key, parts);
  }
  const w = new WireWriter(65535 + 512, raw.length + 128);
  w.bytes(raw);
  w.name(key.name, false);
  w.u16(RRType.TSIG);
  w.u16(RRClass.ANY);
  w.u32(0);
  const at = w.reserve16();
  const start = w.pos;
  w.name(vars.algorithm, false);
  writeTime(w, vars.timeSigned);
  w.u16(vars.fudge);
  w.u16(mac.length);
  w.bytes(mac);
  w.u16((raw[0]! << 8) | raw[1]!);
  w.u16(vars.error);
  w.u16(vars.other.length);
  w.bytes(vars.other);
  w.patch16(at, w.pos - start);
  const out = w.finish();
  const ar = ((out[10]! << 8) | out[11]!) + 1;
  out[10] = ar >> 8;
  out[11] = ar & 0xff;
  return { wire: out, mac };
}

export type TsigVerdict =
  | { ok: true; key: TsigKey; tsig: TsigRecord }
  | { ok: false; rcode: number; error: number; reason: string; tsig: TsigRecord; key?: TsigKey };

export interface VerifyOptions {
  requestMac?: Uint8Array;
  priorMac?: Uint8Array;
  between?: Uint8Array[];
  now?: number;
}

/**
 * Verifies a signed message (RFC 8945 §5.2). Returns undefined when the message is unsigned.
 * Failures say which TSIG error to answer with: BADKEY (unknown key or algorithm), BADSIG, BADTIME;
 * the DNS rcode is NOTAUTH for all three (§5.2).
 */
export function verifyMessage(raw: Uint8Array, keys: (name: Name) => TsigKey | undefined, opts: VerifyOptions = {}): TsigVerdict | undefined {
  const tsig = readTsig(raw);
  if (!tsig) return undefined;
  const key = keys(tsig.keyName);
  const fail = (error: number, reason: string): TsigVerdict => ({ ok: false, rcode: Rcode.NOTAUTH, error, reason, tsig, key });
  if (!key || !tsig.algorithm.equals(Name.parse(TSIG_ALGORITHMS[key.algorithm].wire))) return fail(Rcode.BADKEY, `unknown key ${tsig.keyName} or algorithm ${tsig.algorithm}`);
  const size = TSIG_ALGORITHMS[key.algorithm].size;
  // Truncated MACs (RFC 8945 §5.2.2.1) are refused: none of our peers needs them.
  if (tsig.mac.length !== size) return fail(Rcode.BADSIG, `MAC of ${tsig.mac.length} bytes, expected ${size}`);
  const unsigned = unsignedPart(raw, tsig);
  const vars: Variables = { keyName: tsig.keyName, algorithm: tsig.algorithm, timeSigned: tsig.timeSigned, fudge: tsig.fudge, error: tsig.error, other: tsig.other };
  const parts: Uint8Array[] = [];
  if (opts.priorMac) {
    parts.push(lengthPrefixed(opts.priorMac));
    for (const b of opts.between ?? []) parts.push(b);
    parts.push(unsigned, variables(vars, true));
  } else {
    if (opts.requestMac) parts.push(lengthPrefixed(opts.requestMac));
    parts.push(unsigned, variables(vars, false));
  }
  const expect = computeMac(key, parts);
  if (!timingSafeEqual(Buffer.from(expect), Buffer.from(tsig.mac))) return fail(Rcode.BADSIG, 'MAC does not verify');
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - tsig.timeSigned) > tsig.fudge) return fail(Rcode.BADTIME, `time signed ${tsig.timeSigned} is more than ${tsig.fudge}s from ours (${now})`);
  return { ok: true, key, tsig };
}

/** The `other data` of a BADTIME response: our time as a 48-bit number (RFC 8945 §5.2.3). */
export function badTimeOther(now = Math.floor(Date.now() / 1000)): Uint8Array {
  const w = new WireWriter(6, 6);
  writeTime(w, now);
  return w.finish();
}

/**
 * The TSIG record of an unsigned error answer (BADKEY, BADSIG; RFC 8945 §5.3.2): the request's
 * key and algorithm names, an empty MAC, the error code. Appended to the encoded response.
 */
export function appendErrorTsig(raw: Uint8Array, request: TsigRecord, error: number, now = Math.floor(Date.now() / 1000)): Uint8Array {
  const w = new WireWriter(65535 + 512, raw.length + 128);
  w.bytes(raw);
  w.name(request.keyName, false);
  w.u16(RRType.TSIG);
  w.u16(RRClass.ANY);
  w.u32(0);
  const at = w.reserve16();
  const start = w.pos;
  w.name(request.algorithm, false);
  writeTime(w, now);
  w.u16(request.fudge);
  w.u16(0);
  w.u16((raw[0]! << 8) | raw[1]!);
  w.u16(error);
  w.u16(0);
  w.patch16(at, w.pos - start);
  const out = w.finish();
  const ar = ((out[10]! << 8) | out[11]!) + 1;
  out[10] = ar >> 8;
  out[11] = ar & 0xff;
  return out;
}

/**
 * Verifies the messages of a signed multi-message answer in order (RFC 8945 §5.3.1): the first
 * against the request MAC, later ones against the last verified MAC with the unsigned messages
 * in between. At most 99 unsigned messages may follow one another; the last must be signed
 * (`finish`).
 */
export class StreamVerifier {
  private priorMac: Uint8Array | undefined;
  private between: Uint8Array[] = [];
  private first = true;

  constructor(
    private readonly key: TsigKey,
    private readonly requestMac: Uint8Array,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  /** Throws with the reason when a message breaks the chain. */
  push(raw: Uint8Array): void {
    const tsig = readTsig(raw);
    if (!tsig) {
      if (this.first) throw new Error('answer is not signed');
      // Unsigned messages are covered by the next signed one: their bytes as received.
      this.between.push(raw);
      if (this.between.length > 99) throw new Error('more than 99 unsigned messages in a row');
      return;
    }
    const keys = (n: Name) => (n.equals(this.key.name) ? this.key : undefined);
    const v = this.first
      ? verifyMessage(raw, keys, { requestMac: this.requestMac, now: this.now() })
      : verifyMessage(raw, keys, { priorMac: this.priorMac, between: this.between, now: this.now() });
    if (!v || !v.ok) throw new Error(`TSIG of the answer does not verify: ${v && !v.ok ? v.reason : 'unsigned'} (error ${v?.tsig.error ?? 0})`);
    if (v.tsig.error !== 0) throw new Error(`the server answered with TSIG error ${v.tsig.error}`);
    this.priorMac = v.tsig.mac;
    this.between = [];
    this.first = false;
  }

  /** Throws when the last message was not signed. */
  finish(): void {
    if (this.first || this.between.length) throw new Error('the last message of the answer is not signed');
  }
}
