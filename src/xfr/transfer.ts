import { Overflow, RRType, WireWriter, writeRecord, type Message, type ResourceRecord, type SoaData } from '../wire/index.js';
import type { JournalEntry } from './journal.js';

/**
 * Outgoing zone transfers as sequences of encoded messages (RFC 5936 AXFR, RFC 1995 IXFR).
 * Each message is filled with as many records as fit; the question goes in the first message
 * only (RFC 5936 §2.2.1). `reserve` leaves room for a TSIG record added afterwards.
 */
export interface PackOptions {
  maxSize?: number;
  reserve?: number;
  /** The query had EDNS (RFC 6891 §7): every message carries an OPT with this payload size. */
  ednsUdpSize?: number;
}

/** OPT record bytes: root owner, type 41, class = payload size, TTL 0 (version 0, no flags), no options. */
function optRecord(udpSize: number): Uint8Array {
  return Uint8Array.of(0, 0, 41, udpSize >> 8, udpSize & 0xff, 0, 0, 0, 0, 0, 0);
}

export function* packTransfer(query: Message, records: Iterable<ResourceRecord>, opts: PackOptions = {}): Generator<Uint8Array> {
  const opt = opts.ednsUdpSize !== undefined ? optRecord(opts.ednsUdpSize) : undefined;
  const limit = (opts.maxSize ?? 65535) - (opts.reserve ?? 0) - (opt?.length ?? 0);
  let w = start(query, limit, true);
  let count = 0;
  for (const rr of records) {
    const mark = w.mark();
    try {
      writeRecord(w, rr);
      count++;
      continue;
    } catch (e) {
      if (!(e instanceof Overflow)) throw e;
      w.rollback(mark);
    }
    if (count === 0) throw new Error(`record ${rr.name} type ${rr.type} does not fit in one message`);
    yield finish(w, count, opt);
    w = start(query, limit, false);
    count = 0;
    writeRecord(w, rr);
    count = 1;
  }
  yield finish(w, count, opt);
}

function start(query: Message, limit: number, withQuestion: boolean): WireWriter {
  const w = new WireWriter(limit, 16384);
  w.u16(query.id);
  // QR, AA; opcode QUERY; rcode NOERROR.
  w.u16(0x8400);
  const q = withQuestion ? query.question[0] : undefined;
  w.u16(q ? 1 : 0);
  w.u16(0);
  w.u16(0);
  w.u16(0);
  if (q) {
    w.name(q.name);
    w.u16(q.type);
    w.u16(q.class);
  }
  return w;
}

function finish(w: WireWriter, count: number, opt: Uint8Array | undefined): Uint8Array {
  let out = w.finish();
  if (opt) {
    const withOpt = new Uint8Array(out.length + opt.length);
    withOpt.set(out);
    withOpt.set(opt, out.length);
    withOpt[11] = 1; // ARCOUNT
    out = withOpt;
  }
  out[6] = count >> 8;
  out[7] = count & 0xff;
  return out;
}

/** AXFR record order: SOA, every other record, SOA again (RFC 5936 §2.2). */
export function* axfrRecords(soa: ResourceRecord, records: Iterable<ResourceRecord>): Generator<ResourceRecord> {
  yield soa;
  for (const rr of records) if (rr.type !== RRType.SOA) yield rr;
  yield soa;
}

/**
 * IXFR response records (RFC 1995 §4): the current SOA, then per journal entry the old SOA, the
 * deletions, the new SOA, the additions; the current SOA closes. The SOAs are the journal's own
 * (they are among each entry's deleted/added records).
 */
export function* ixfrRecords(current: ResourceRecord<SoaData>, chain: readonly JournalEntry[]): Generator<ResourceRecord> {
  yield current;
  for (const e of chain) {
    const oldSoa = e.deleted.find((r) => r.type === RRType.SOA);
    const newSoa = e.added.find((r) => r.type === RRType.SOA);
    if (!oldSoa || !newSoa) throw new Error(`journal entry ${e.from}->${e.to} lacks its SOA records`);
    yield oldSoa;
    for (const rr of e.deleted) if (rr.type !== RRType.SOA) yield rr;
    yield newSoa;
    for (const rr of e.added) if (rr.type !== RRType.SOA) yield rr;
  }
  yield current;
}
