import { RRClass, RRType } from './constants.js';
import type { Edns, EdnsOption } from './edns.js';
import { WireError } from './errors.js';
import { Name } from './name.js';
import { WireReader } from './reader.js';
import { readRecord, writeRecord, type Question, type ResourceRecord } from './record.js';
import { Overflow, WireWriter } from './writer.js';

/**
 * A whole DNS message. Header flags are flat fields; `rcode` is the full response code (the
 * EDNS extended bits included); `additional` never holds the OPT record, which is `edns`.
 */
export interface Message {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  /** The reserved Z bit (must be zero; kept to observe senders). */
  z: boolean;
  ad: boolean;
  cd: boolean;
  rcode: number;
  question: Question[];
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
  edns?: Edns;
}

/** A message with every field defaulted; pass the ones that matter. */
export function makeMessage(init: Partial<Message> = {}): Message {
  return {
    id: 0, qr: false, opcode: 0, aa: false, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0,
    question: [], answer: [], authority: [], additional: [], ...init,
  };
}

export const HEADER_SIZE = 12;

export function decodeMessage(buf: Uint8Array): Message {
  if (buf.length < HEADER_SIZE) throw new WireError('message shorter than the 12-byte header', buf.length);
  const r = new WireReader(buf);
  const id = r.u16();
  const flags = r.u16();
  const qd = r.u16();
  const an = r.u16();
  const ns = r.u16();
  const ar = r.u16();
  const question: Question[] = [];
  for (let i = 0; i < qd; i++) {
    const name = r.name();
    question.push({ name, type: r.u16(), class: r.u16() });
  }
  const answer: ResourceRecord[] = [];
  for (let i = 0; i < an; i++) answer.push(readRecord(r));
  const authority: ResourceRecord[] = [];
  for (let i = 0; i < ns; i++) authority.push(readRecord(r));
  const additional: ResourceRecord[] = [];
  let edns: Edns | undefined;
  let rcode = flags & 0xf;
  for (let i = 0; i < ar; i++) {
    const at = r.pos;
    const rr = readRecord(r);
    if (rr.type === RRType.OPT) {
      if (edns) throw new WireError('more than one OPT record', at);
      if (!rr.name.isRoot) throw new WireError('OPT record owner is not the root', at);
      const opt = rr.data as OptData;
      edns = {
        udpSize: rr.class,
        version: (rr.ttl >>> 16) & 0xff,
        do: (rr.ttl & 0x8000) !== 0,
        z: rr.ttl & 0x7fff,
        options: opt.options,
      };
      rcode |= ((rr.ttl >>> 24) & 0xff) << 4;
    } else additional.push(rr);
  }
  if (r.pos !== buf.length) throw new WireError(`${buf.length - r.pos} bytes after the last record`, r.pos);
  return {
    id,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >>> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    z: (flags & 0x0040) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode,
    question,
    answer,
    authority,
    additional,
    edns,
  };
}

export interface EncodeOptions {
  /** Size limit; RRsets that do not fit are left out (TC set if from answer or authority). */
  maxSize?: number;
  /** Name compression (default true). */
  compress?: boolean;
}

/** Encodes a message. Truncation happens at RRset boundaries (RFC 2181 §9); OPT always fits. */
export function encodeMessage(msg: Message, opts: EncodeOptions = {}): Uint8Array {
  const maxSize = Math.min(opts.maxSize ?? 65535, 65535);
  const compress = opts.compress ?? true;
  const optLen = msg.edns ? 11 + msg.edns.options.reduce((n, o) => n + 4 + o.data.length, 0) : 0;
  const w = WireWriter.lend(Math.max(HEADER_SIZE, maxSize - optLen), compress);
  try {
    return encodeInto(w, msg, compress, optLen);
  } finally {
    w.giveBack();
  }
}

/** The body of encodeMessage, writing into `w`; the result is a copy (`w` is lent). */
function encodeInto(w: WireWriter, msg: Message, compress: boolean, optLen: number): Uint8Array {
  let tc = msg.tc;
  const counts = [0, 0, 0, 0];
  w.u16(msg.id);
  w.u16(0);
  w.u32(0);
  w.u32(0);
  let full = false;
  try {
    for (const q of msg.question) {
      w.name(q.name, compress);
      w.u16(q.type);
      w.u16(q.class);
      counts[0]!++;
    }
  } catch (e) {
    if (!(e instanceof Overflow)) throw e;
    tc = true;
    full = true;
  }
  const sections = [msg.answer, msg.authority, msg.additional];
  for (let s = 0; s < 3 && !full; s++) {
    const rrs = sections[s]!;
    let setStart = w.mark();
    let setCount = counts[s + 1]!;
    for (let i = 0; i < rrs.length; i++) {
      const rr = rrs[i]!;
      const prev = rrs[i - 1];
      if (!prev || prev.type !== rr.type || prev.class !== rr.class || !prev.name.equals(rr.name)) {
        setStart = w.mark();
        setCount = counts[s + 1]!;
      }
      try {
        writeRecord(w, rr, compress);
        counts[s + 1]!++;
      } catch (e) {
        if (!(e instanceof Overflow)) throw e;
        w.rollback(setStart);
        counts[s + 1] = setCount;
        // Missing additional data is not truncation (RFC 2181 §9); missing answers are.
        if (s < 2) tc = true;
        full = true;
        break;
      }
    }
  }
  let ar = counts[3]!;
  if (msg.edns) {
    const e = msg.edns;
    const ow = new WireWriter(optLen, optLen);
    ow.u8(0);
    ow.u16(RRType.OPT);
    ow.u16(e.udpSize);
    ow.u8((msg.rcode >>> 4) & 0xff);
    ow.u8(e.version);
    ow.u16((e.do ? 0x8000 : 0) | (e.z & 0x7fff));
    ow.u16(optLen - 11);
    for (const o of e.options) {
      ow.u16(o.code);
      ow.u16(o.data.length);
      ow.bytes(o.data);
    }
    const out = new Uint8Array(w.pos + optLen);
    out.set(w.buf.subarray(0, w.pos));
    out.set(ow.buf.subarray(0, optLen), w.pos);
    ar++;
    patchHeader(out, msg, tc, counts, ar);
    return out;
  }
  const out = w.finish();
  patchHeader(out, msg, tc, counts, ar);
  return out;
}

function patchHeader(out: Uint8Array, msg: Message, tc: boolean, counts: number[], ar: number): void {
  const flags =
    (msg.qr ? 0x8000 : 0) |
    ((msg.opcode & 0xf) << 11) |
    (msg.aa ? 0x0400 : 0) |
    (tc ? 0x0200 : 0) |
    (msg.rd ? 0x0100 : 0) |
    (msg.ra ? 0x0080 : 0) |
    (msg.z ? 0x0040 : 0) |
    (msg.ad ? 0x0020 : 0) |
    (msg.cd ? 0x0010 : 0) |
    (msg.rcode & 0xf);
  out[2] = flags >> 8;
  out[3] = flags & 0xff;
  out[4] = counts[0]! >> 8;
  out[5] = counts[0]! & 0xff;
  out[6] = counts[1]! >> 8;
  out[7] = counts[1]! & 0xff;
  out[8] = counts[2]! >> 8;
  out[9] = counts[2]! & 0xff;
  out[10] = ar >> 8;
  out[11] = ar & 0xff;
}

/** OPT RDATA: a list of options. */
export interface OptData {
  options: EdnsOption[];
}

/**
 * The cheap decode for the hot path: header fields and the first question only, no objects for
 * the other sections. Throws WireError when even that much is malformed.
 */
export interface QueryHead {
  id: number;
  flags: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
  qname: Name;
  qtype: number;
  qclass: number;
  /** Offset just past the first question. */
  questionEnd: number;
}

export function decodeQueryHead(buf: Uint8Array): QueryHead {
  if (buf.length < HEADER_SIZE) throw new WireError('message shorter than the 12-byte header', buf.length);
  const qdcount = (buf[4]! << 8) | buf[5]!;
  if (qdcount === 0) throw new WireError('no question', 4);
  const { name, next } = Name.fromWire(buf, HEADER_SIZE, buf.length);
  if (next + 4 > buf.length) throw new WireError('truncated question', next);
  return {
    id: (buf[0]! << 8) | buf[1]!,
    flags: (buf[2]! << 8) | buf[3]!,
    qdcount,
    ancount: (buf[6]! << 8) | buf[7]!,
    nscount: (buf[8]! << 8) | buf[9]!,
    arcount: (buf[10]! << 8) | buf[11]!,
    qname: name,
    qtype: (buf[next]! << 8) | buf[next + 1]!,
    qclass: (buf[next + 2]! << 8) | buf[next + 3]!,
    questionEnd: next + 4,
  };
}

export { RRClass };
