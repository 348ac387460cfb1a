import type { Cache, CacheEntry, CacheTrace, WatchDependent } from './cache.js';
import type { Clock } from './types.js';
import type { Name, ResourceRecord } from '../wire/index.js';
import { AnswerTable } from '../authoritative/answer-table.js';

export const DEFAULT_ANSWER_CACHE = 100_000;

const HEADER_SIZE = 12;

/**
 * One precompiled reply: the encoded message without OPT, where its TTL fields are and when the
 * cache entry behind each runs out, and what it depended on in the cache.
 */
interface Precompiled extends WatchDependent {
  /** Found void by a lookup and counted (its bytes stay in the table until replaced or emptied). */
  gone: boolean;
  /** Offset just past the question name (the same in every query with this key). */
  readonly nameEnd: number;
  /**
   * Pairs, one per record in order: the offset of its TTL field and the expiry (ms) of the cache
   * entry it counts down to. One flat array: a hit reads one object less.
   */
  readonly ttls: number[];
  /** The reply is taken from the cache again from this time (ms) on: a TTL would reach 0, or prefetch is due. */
  readonly validUntil: number;
  /** Cache.aboveGeneration when the resolution began. */
  readonly above: number;
  /** The cache entries behind the records, refreshed in the LRU order now and then. */
  readonly entries: CacheEntry[];
  /** Hits since the entries were last refreshed. */
  hits: number;
  /** The question name it answers (for the monitor: the name of the last hit, `lastName`). */
  readonly name: Name | undefined;
  /** Every part validated as secure: AD for clients that set DO or AD (RFC 6840 §5.7). */
  readonly secure: boolean;
  /** The query set DO (part of the key). */
  readonly dnssecOk: boolean;
}

export interface AnswerCacheOptions {
  /** Replies kept; when full the store is emptied and fills again (0: off). */
  max: number;
  /** The resolver prefetches popular entries near expiry: such a reply goes back to the cache in time. */
  prefetch: boolean;
}

export interface AnswerCacheStats {
  hits: number;
  stores: number;
  /** Replies dropped because the cache data under them changed, ran out or was flushed. */
  invalidated: number;
}

/** Hits of a precompiled reply between two LRU refreshes of the cache entries behind it. */
const LRU_REFRESH_HITS = 32;

/** Prefetch (resolver.ts maybePrefetch) looks at entries of at least this TTL. */
const PREFETCH_MIN_TTL = 10;

/**
 * Precompiled resolver replies, as the authoritative step keeps them (DESIGN.md "How a query
 * flows"): a reply built from the cache alone is kept encoded, keyed by view, question key
 * (lower-cased name bytes, type, class, DO) and CD. A hit copies it and patches ID, RD, CD, AD,
 * the question's name bytes (so the client's case comes back) and every TTL, counted down from
 * the expiry of the cache entry it came from, so the bytes are those the full path would give.
 *
 * A kept reply is void once any cache key the resolution read (hit or miss) changed, a TTL
 * would reach 0, the entry is due for prefetch, or the cache was flushed (its generation).
 */
export class AnswerCache {
  /**
   * By view, then [CD clear, CD set]; `plain` for requests without a view (one Map lookup
   * less). The tables keep the encoded replies by question bytes (authoritative/answer-table.ts).
   */
  private byView = new Map<string, [AnswerTable<Precompiled>, AnswerTable<Precompiled>]>();
  private plain: [AnswerTable<Precompiled>, AnswerTable<Precompiled>];
  /** Replies held and good as far as is known. */
  private count = 0;
  /** Entries in the tables, void ones included: the bound (`max`) applies to these. */
  private entries = 0;
  private seenGeneration: number;
  readonly stats: AnswerCacheStats = { hits: 0, stores: 0, invalidated: 0 };
  /** The question name of the last reply `get` gave (the monitor reads it; no Name per hit). */
  lastName: Name | undefined;

  constructor(private readonly cache: Cache, private readonly clock: Clock, private readonly opts: AnswerCacheOptions) {
    this.seenGeneration = cache.generation;
    this.plain = this.tables();
  }

  get enabled(): boolean {
    return this.opts.max > 0;
  }

  /** Replies held now. */
  get size(): number {
    return this.count;
  }

  private tables(): [AnswerTable<Precompiled>, AnswerTable<Precompiled>] {
    return [new AnswerTable(this.opts.max), new AnswerTable(this.opts.max)];
  }

  clear(): void {
    this.byView = new Map();
    this.plain = this.tables();
    this.count = 0;
    this.entries = 0;
    // The watches' dependents lists only held what was dropped here.
    this.cache.resetWatches();
    this.seenGeneration = this.cache.generation;
  }

  /**
   * The reply (no OPT) to the query `raw`, whose uncompressed question name ends at `qnameEnd`,
   * for DO `dnssecOk`, whose questionHash (transport/fast.ts) is `hash`; undefined when none is
   * kept or it is no longer good. Synchronous and never throws.
   */
  get(raw: Uint8Array, qnameEnd: number, dnssecOk: boolean, hash: number, view: string | undefined, out?: Uint8Array): Uint8Array | undefined {
    try {
      if (this.count === 0) return undefined;
      // A standard query (QR clear, opcode QUERY) with one question, read whole.
      if (qnameEnd < HEADER_SIZE || raw.length < qnameEnd + 4 || (raw[2]! & 0xf8) !== 0 || raw[4] !== 0 || raw[5] !== 1) return undefined;
      if (this.cache.generation !== this.seenGeneration) {
        this.clear();
        return undefined;
      }
      const maps = view === undefined ? this.plain : this.byView.get(view);
      if (!maps) return undefined;
      const cd = (raw[3]! & 0x10) !== 0;
      const table = cd ? maps[1] : maps[0];
      const entry = table.find(raw, qnameEnd, dnssecOk, hash);
      if (entry < 0) return undefined;
      const p = table.metaOf(entry);
      if (p.gone) return undefined;
      const now = this.clock.now();
      if (p.dead || now >= p.validUntil || p.above !== this.cache.aboveGeneration) {
        p.dead = true;
        p.gone = true;
        this.count--;
        this.stats.invalidated++;
        return undefined;
      }
      this.stats.hits++;
      // Now and then the hits reach the cache: its LRU order and prefetch popularity see
      // the names answered here, which would otherwise look unused and go first.
      if (++p.hits >= LRU_REFRESH_HITS) {
        for (const e of p.entries) this.cache.refresh(e, p.hits);
        p.hits = 0;
      }
      this.lastName = p.name;
      return patch(p, table, entry, raw, now, out);
    } catch {
      return undefined;
    }
  }

  /**
   * Keeps `wire` (the encoded reply without OPT to the query `raw`, whose uncompressed question
   * name ends at `nameEnd` in both and whose questionHash is `hash`) when `trace` shows it was
   * built from live cache data alone and nothing it read has changed since. `records` are the
   * reply's records in wire order (answer, authority, additional); `secure` is the resolver's
   * AD verdict and `dnssecOk` the query's DO bit (both fixed for the key).
   */
  store(view: string | undefined, raw: Uint8Array, hash: number, cd: boolean, wire: Uint8Array, nameEnd: number, records: readonly ResourceRecord[], secure: boolean, dnssecOk: boolean, trace: CacheTrace, name?: Name): boolean {
    if (this.opts.max <= 0 || !trace.complete) return false;
    const ttlAt = ttlOffsets(wire);
    if (!ttlAt || ttlAt.length !== records.length) return false;
    const ttls: number[] = [];
    const entries: CacheEntry[] = [];
    let validUntil = Infinity;
    for (let i = 0; i < records.length; i++) {
      const e: CacheEntry | undefined = trace.entries.get(records[i]!);
      if (!e) return false;
      ttls.push(ttlAt[i]!, e.expires);
      if (!entries.includes(e)) entries.push(e);
      // A TTL of 0 is left to the cache (it is about to expire), and so is an entry that
      // prefetch may refresh: the full path is where prefetch is started.
      let until = e.expires - 1000;
      if (this.opts.prefetch && e.ttl >= PREFETCH_MIN_TTL) until = Math.min(until, e.expires - (Math.floor(e.ttl * 0.1) + 1) * 1000);
      if (until < validUntil) validUntil = until;
    }
    const now = this.clock.now();
    if (now >= validUntil) return false;
    // Emptied when full: a flood of distinct names cannot grow it without bound. (Before the
    // trace is registered: emptying moves the cache's generation on.)
    let maps = view === undefined ? this.plain : this.byView.get(view);
    let table = maps ? (cd ? maps[1] : maps[0]) : undefined;
    let at = table ? table.find(raw, nameEnd, dnssecOk, hash) : -1;
    if (this.cache.generation !== this.seenGeneration || (at < 0 && this.entries >= this.opts.max) || table?.full(nameEnd, wire.length, at)) {
      if (trace.generation !== this.cache.generation) return false;
      this.clear();
      maps = view === undefined ? this.plain : undefined;
      table = undefined;
      at = -1;
    }
    if (!maps) {
      maps = this.tables();
      this.byView.set(view!, maps);
    }
    table ??= cd ? maps[1] : maps[0];
    const p: Precompiled = { dead: false, gone: false, nameEnd, ttls, validUntil, above: trace.aboveGeneration, entries, hits: 0, secure, dnssecOk, name };
    // Registered only when nothing it read has changed since it was read.
    if (!this.cache.depend(trace, p)) return false;
    if (at >= 0) {
      const old = table.metaOf(at);
      old.dead = true;
      if (old.gone) this.count++;
    } else {
      this.count++;
      this.entries++;
    }
    table.set(raw, nameEnd, dnssecOk, hash, wire, p, at);
    this.stats.stores++;
    return true;
  }
}

/** A copy of the kept reply `entry` of `table` (meta `p`) for the query `raw` at time `now` (ms). */
function patch(p: Precompiled, table: AnswerTable<Precompiled>, entry: number, raw: Uint8Array, now: number, into?: Uint8Array): Uint8Array {
  const n = table.answerSize(entry);
  // Into the caller's scratch space when it has room (the UDP fast path: no allocation, and
  // the front step appends the OPT in place), else a new buffer.
  const out = into !== undefined && into.length >= n ? into.subarray(0, n) : Buffer.allocUnsafe(n);
  table.copyAnswer(entry, out);
  out[0] = raw[0]!;
  out[1] = raw[1]!;
  // RD and CD as asked; AD only for validated data, to clients that set DO or AD.
  out[2] = (out[2]! & ~0x01) | (raw[2]! & 0x01);
  const ad = p.secure && (p.dnssecOk || (raw[3]! & 0x20) !== 0);
  out[3] = (out[3]! & ~0x30) | (raw[3]! & 0x10) | (ad ? 0x20 : 0);
  for (let i = HEADER_SIZE; i < p.nameEnd; i++) out[i] = raw[i]!;
  const ttls = p.ttls;
  // Records of one RRset share an expiry: count each down once.
  let last = NaN;
  let ttl = 0;
  for (let i = 0; i < ttls.length; i += 2) {
    const expires = ttls[i + 1]!;
    if (expires !== last) {
      last = expires;
      ttl = Math.floor((last - now) / 1000);
    }
    const o = ttls[i]!;
    out[o] = ttl >>> 24;
    out[o + 1] = (ttl >>> 16) & 0xff;
    out[o + 2] = (ttl >>> 8) & 0xff;
    out[o + 3] = ttl & 0xff;
  }
  return out;
}

/**
 * Offsets of the TTL fields of every record in an encoded message, in order; undefined when the
 * message does not parse to its exact end.
 */
export function ttlOffsets(wire: Uint8Array): number[] | undefined {
  if (wire.length < HEADER_SIZE) return undefined;
  const u16 = (o: number) => (wire[o]! << 8) | wire[o + 1]!;
  const qd = u16(4);
  const rrs = u16(6) + u16(8) + u16(10);
  let off = HEADER_SIZE;
  const skipName = (): boolean => {
    for (;;) {
      if (off >= wire.length) return false;
      const len = wire[off]!;
      if (len === 0) {
        off++;
        return true;
      }
      if ((len & 0xc0) === 0xc0) {
        off += 2;
        return true;
      }
      if (len > 63) return false;
      off += len + 1;
    }
  };
  for (let i = 0; i < qd; i++) {
    if (!skipName()) return undefined;
    off += 4;
  }
  const out: number[] = [];
  for (let i = 0; i < rrs; i++) {
    if (!skipName() || off + 10 > wire.length) return undefined;
    out.push(off + 4);
    off += 10 + u16(off + 8);
  }
  return off === wire.length ? out : undefined;
}
