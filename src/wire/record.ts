import { classFromString, classToString, RRClass, typeFromString, typeToString } from './constants.js';
import { TextError } from './errors.js';
import { Name } from './name.js';
import { WireReader } from './reader.js';
import { codecFor, rdataFromText } from './rdata/index.js';
import { parseTtlText } from './rdata/basic.js';
import { Tokens } from './tokens.js';
import { WireWriter } from './writer.js';

/** A resource record. `data` has the shape of the type's codec (Uint8Array for unknown types). */
export interface ResourceRecord<T = any> {
  readonly name: Name;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly data: T;
}

export interface Question {
  readonly name: Name;
  readonly type: number;
  readonly class: number;
}

export function writeRecord(w: WireWriter, rr: ResourceRecord, compress = true): void {
  w.name(rr.name, compress);
  w.u16(rr.type);
  w.u16(rr.class);
  w.u32(rr.ttl);
  const at = w.reserve16();
  const start = w.pos;
  if (rr.data instanceof Uint8Array) w.bytes(rr.data);
  else codecFor(rr.type).toWire(w, rr.data, false);
  w.patch16(at, w.pos - start);
}

export function readRecord(r: WireReader): ResourceRecord {
  const name = r.name();
  const type = r.u16();
  const cls = r.u16();
  const ttl = r.u32();
  const rdlen = r.u16();
  const start = r.pos;
  const end = start + rdlen;
  if (end > r.end) r.fail('RDATA runs past the end of the message', start);
  const outerEnd = r.end;
  r.end = end;
  let data: unknown;
  try {
    // UPDATE deletions (RFC 2136 §2.5.2) carry an empty RDATA for any type.
    data = rdlen === 0 ? emptyData(type, r) : codecFor(type).fromWire(r);
    if (r.pos !== end) r.fail(`${typeToString(type)} RDATA has ${end - r.pos} bytes left over`, r.pos);
  } finally {
    r.end = outerEnd;
  }
  r.pos = end;
  return { name, type, class: cls, ttl, data };
}

function emptyData(type: number, r: WireReader): unknown {
  try {
    return codecFor(type).fromWire(r);
  } catch {
    return new Uint8Array(0);
  }
}

/** `owner TTL CLASS TYPE RDATA`, owner relative to `origin` when given. */
export function recordToText(rr: ResourceRecord, origin?: Name): string {
  return `${rr.name.toText(origin)}\t${rr.ttl}\t${classToString(rr.class)}\t${typeToString(rr.type)}\t${rdataText(rr)}`;
}

/**
 * RDATA presentation. Registered codecs always hold a plain object, so a bare Uint8Array is
 * opaque data (unknown type, or an empty UPDATE RDATA) and prints in RFC 3597 form.
 */
export function rdataText(rr: ResourceRecord, origin?: Name): string {
  if (rr.data instanceof Uint8Array) return codecFor(-1).toText(rr.data);
  return codecFor(rr.type).toText(rr.data, origin);
}

/**
 * Parses one complete record line: `owner [TTL] [CLASS] TYPE RDATA` with every field present
 * except TTL/class (defaults `defaultTtl` and IN). Meant for tests and tools; zone files go
 * through the zone parser.
 */
export function recordFromText(text: string, origin: Name = Name.root, defaultTtl = 3600): ResourceRecord {
  const t = Tokens.fromString(text);
  const ownerTok = t.next('owner name');
  let name: Name;
  try {
    name = Name.parse(ownerTok.text, origin);
  } catch (e) {
    throw t.error(ownerTok, (e as TextError).reason ?? String(e));
  }
  let ttl = defaultTtl;
  let cls: number = RRClass.IN;
  let type: number | undefined;
  for (let i = 0; i < 3 && type === undefined; i++) {
    const tok = t.next('record type');
    const asTtl = parseTtlText(tok.text);
    const asClass = classFromString(tok.text);
    if (asTtl !== undefined) ttl = asTtl;
    else if (asClass !== undefined) cls = asClass;
    else {
      type = typeFromString(tok.text);
      if (type === undefined) throw t.error(tok, `unknown record type "${tok.text}"`);
    }
  }
  if (type === undefined) throw t.error(undefined, 'missing record type');
  const data = rdataFromText(type, t, origin);
  return { name, type, class: cls, ttl, data };
}

export { typeToString };
