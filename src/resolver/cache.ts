import { encodeRdata, Name, RRType, type ResourceRecord } from '../wire/index.js';
import type { Security } from '../dnssec/validate.js';
import type { Clock } from './types.js';

/**
 * Trust ranking of cached data (RFC 2181 §5.4.1), lowest first. Data of a lower rank never
 * replaces live data of a higher rank, so glue cannot overwrite an authoritative answer.
 */
export const Rank = {
  ADDITIONAL: 1,
  AUTHORITY: 2,
  ANSWER: 3,
  AUTHORITY_AA: 4,
  ANSWER_AA: 5,
} as const;
export type RankValue = (typeof Rank)[keyof typeof Rank];

export interface CacheConfig {
  /** Upper bound on any TTL kept (seconds). */
  maxTtl: number;
  /** Lower bound on positive TTLs (seconds). */
  minTtl: number;
  /** Upper bound on negative TTLs (seconds, RFC 2308 §5). */
  maxNegativeTtl: number;
  /** Memory cap: estimated bytes of all entries; least recently used entries go first. */
  maxBytes: number;
  /** How long expired data is kept to be served stale when upstreams fail (seconds, RFC 8767). 0 disables. */
  staleKeep: number;
  /** TTL put on stale answers (seconds, RFC 8767 §4 recommends 30). */
  staleTtl: number;
}

export const defaultCacheConfig: CacheConfig = {
  maxTtl: 86400,
  minTtl: 0,
  maxNegativeTtl: 3600,
  maxBytes: 64 * 1024 * 1024,
  staleKeep: 86400,
  staleTtl: 30,
};

export type EntryKind = 'rrset' | 'nxdomain' | 'nodata';

export interface CacheEntry {
  readonly kind: EntryKind;
  readonly name: Name;
  readonly type: number;
  readonly class: number;
  /** Records with their TTL as stored (already capped). */
  readonly rrs: readonly ResourceRecord[];
  /** For negative entries: the SOA of the zone (authority section to return). */
  readonly soa: readonly ResourceRecord[];
  readonly rank: number;
  readonly ttl: number;
  readonly storedAt: number;
  expires: number;
  readonly bytes: number;
  hits: number;
  prefetching: boolean;
  /** RRSIGs over the RRset (DNSSEC). */
  readonly sigs: readonly ResourceRecord[];
  /** NSEC/NSEC3 and their RRSIGs proving a denial or a wildcard expansion (DNSSEC). */
  readonly proof: readonly ResourceRecord[];
  /** DNSSEC state once validated; undefined while not validated (RFC 4035 §4.3). */
  security?: Security;
  /** Why a bogus entry is bogus (RFC 8914 EDE). */
  ede?: { infoCode: number; text: string };
}

/** A cache hit: records with their TTL counted down. */
export interface CacheHit {
  readonly entry: CacheEntry;
  readonly rrs: ResourceRecord[];
  readonly soa: ResourceRecord[];
  readonly sigs: ResourceRecord[];
  readonly proof: ResourceRecord[];
  readonly stale: boolean;
  /** Seconds left before expiry (0 when stale). */
  readonly remaining: number;
}

export interface CacheStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  evictions: number;
  inserts: number;
}

const ENTRY_OVERHEAD = 96;

/** Watched cache keys kept before the set is emptied (and every precompiled answer dropped). */
const MAX_WATCHES = 500_000;

/** A change counter for one cache key: bumped whenever the key is inserted, removed or revalidated. */
export interface Watch {
  v: number;
  /** Read as an ancestor's NXDOMAIN (RFC 8020 cut): a change also bumps Cache.aboveGeneration. */
  above: boolean;
  /** What was built from a read of this key: marked dead at the next change. */
  deps: WatchDependent[] | undefined;
}

/** Something built from cache reads (a precompiled reply): `dead` once any key it read changed. */
export interface WatchDependent {
  dead: boolean;
}

/** A watch's dependents list is compacted (dead ones dropped) when it grows past this. */
const DEPS_COMPACT = 256;

/**
 * What one resolution read from the cache, for precompiled answers (answer-cache.ts): every key
 * it asked for (hit or miss) with that key's change counter at the time, and the entry behind
 * every record it got, so a copy of the answer can be kept and checked cheaply later. `complete`
 * turns false when the answer needed anything beyond live cache data (upstream, synthesis,
 * stale data).
 */
export class CacheTrace {
  complete = true;
  readonly watches: Watch[] = [];
  readonly versions: number[] = [];
  /** The entry each returned record object came from. */
  readonly entries = new Map<ResourceRecord, CacheEntry>();
  constructor(readonly generation: number, readonly aboveGeneration: number) {}
}

function keyOf(name: Name, type: number | 'NX', cls: number): string {
  return `${cls}/${type}/${name.key}`;
}

function recordBytes(rr: ResourceRecord): number {
  let rdlen: number;
  try {
    rdlen = rr.data instanceof Uint8Array ? rr.data.length : encodeRdata(rr.type, rr.data).length;
  } catch {
    rdlen = 64;
  }
  return rr.name.wireLength + 10 + rdlen + 48;
}

/**
 * RRset and negative cache: TTLs counted down on read, caps on TTL, LRU eviction by bytes,
 * expired entries kept for a while to serve stale. A JavaScript Map keeps insertion order, so
 * re-inserting on every hit makes its first key the least recently used.
 */
export class Cache {
  private readonly map = new Map<string, CacheEntry>();
  private bytes = 0;
  readonly stats: CacheStats = { entries: 0, bytes: 0, hits: 0, misses: 0, evictions: 0, inserts: 0 };
  readonly config: CacheConfig;
  /**
   * Bumped by flush and expireAll (and when the watch set is emptied): every precompiled answer
   * built before is void.
   */
  generation = 0;
  /** Change counters of the keys precompiled answers depend on (see CacheTrace). */
  private readonly watches = new Map<string, Watch>();
  /**
   * Bumped by any change at a key read as an ancestor's NXDOMAIN. Those keys (the zones above
   * every name asked) are shared by most replies and rarely change: one counter for all of them
   * keeps the check of a precompiled reply short.
   */
  aboveGeneration = 0;

  constructor(private readonly clock: Clock, config: Partial<CacheConfig> = {}) {
    this.config = { ...defaultCacheConfig, ...config };
  }

  get size(): number {
    return this.map.size;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** Records with their TTL capped as the cache would store them (answers served straight from upstream). */
  capRecords(rrs: readonly ResourceRecord[]): ResourceRecord[] {
    return rrs.map((r) => ({ ...r, ttl: this.capPositive(r.ttl) }));
  }

  /** The SOA of a negative answer with the RFC 2308 §5 TTL: min(SOA TTL, MINIMUM, max negative TTL). */
  capNegative(soa: readonly ResourceRecord[]): ResourceRecord[] {
    return soa.map((r) => {
      const minimum = (r.data as { minimum?: number }).minimum ?? r.ttl;
      return { ...r, ttl: Math.max(this.config.minTtl, Math.min(r.ttl, minimum, this.config.maxNegativeTtl)) };
    });
  }

  private capPositive(ttl: number): number {
    return Math.min(this.config.maxTtl, Math.max(this.config.minTtl, ttl));
  }

  /**
   * Stores one RRset (all records same owner, type, class). Returns false when live data of
   * a higher rank is already there.
   */
  putRRset(rrs: readonly ResourceRecord[], rank: number, dnssec: { sigs?: readonly ResourceRecord[]; proof?: readonly ResourceRecord[]; refresh?: boolean } = {}): boolean {
    if (rrs.length === 0) return false;
    const first = rrs[0]!;
    let ttl = this.capPositive(Math.min(...rrs.map((r) => r.ttl)));
    const key = keyOf(first.name, first.type, first.class);
    const old = this.map.get(key);
    const now = this.clock.now();
    if (old && old.kind === 'rrset' && old.expires > now && old.rank === rank && !dnssec.refresh) {
      // The same records at the same rank: keep what is cached (its signatures, its countdown),
      // as Unbound does, so a copy seen again in another answer does not reset anything.
      if (sameRecords(old.rrs, rrs) && sameRecords(old.sigs, dnssec.sigs ?? [])) return false;
      // A changed NS RRset at the same rank takes over the old one's remaining TTL, so a zone
      // that moved away (or a server holding on to a sold domain) cannot extend itself.
      if (first.type === RRType.NS) ttl = Math.min(ttl, Math.ceil((old.expires - now) / 1000));
    }
    const stored = dedupe(rrs).map((r) => ({ ...r, ttl }));
    const sigs = (dnssec.sigs ?? []).map((r) => ({ ...r, ttl }));
    const proof = (dnssec.proof ?? []).map((r) => ({ ...r, ttl: Math.min(r.ttl, ttl) }));
    return this.insert({
      kind: 'rrset', name: first.name, type: first.type, class: first.class, rrs: stored, soa: [], rank, ttl, sigs, proof,
    }, key);
  }

  /**
   * Stores a negative answer (RFC 2308): NXDOMAIN for the name, or NODATA for (name, type).
   * The TTL is the SOA's TTL capped by its MINIMUM field (§5) and by `maxNegativeTtl`. Without
   * an SOA nothing is cached (§5: such answers should not be cached).
   */
  putNegative(kind: 'nxdomain' | 'nodata', name: Name, type: number, cls: number, soa: readonly ResourceRecord[], rank: number, proof: readonly ResourceRecord[] = []): boolean {
    const s = soa.find((r) => r.type === RRType.SOA);
    if (!s) return false;
    const minimum = (s.data as { minimum?: number }).minimum ?? s.ttl;
    const ttl = Math.max(this.config.minTtl, Math.min(s.ttl, minimum, this.config.maxNegativeTtl));
    const soaStored = soa.filter((r) => r.type === RRType.SOA).map((r) => ({ ...r, ttl }));
    const key = kind === 'nxdomain' ? keyOf(name, 'NX', cls) : keyOf(name, type, cls);
    const proofStored = proof.filter((r) => r.type !== RRType.SOA).map((r) => ({ ...r, ttl }));
    return this.insert({ kind, name, type: kind === 'nxdomain' ? 0 : type, class: cls, rrs: [], soa: soaStored, rank, ttl, sigs: [], proof: proofStored }, key);
  }

  private insert(e: Omit<CacheEntry, 'storedAt' | 'expires' | 'bytes' | 'hits' | 'prefetching'>, key: string): boolean {
    const now = this.clock.now();
    const old = this.map.get(key);
    if (old && old.expires > now && old.rank > e.rank) return false;
    if (e.ttl <= 0 && this.config.staleKeep <= 0) {
      if (old) this.remove(key, old);
      return false;
    }
    const bytes = ENTRY_OVERHEAD + e.name.wireLength + [e.rrs, e.soa, e.sigs, e.proof].reduce((n, list) => n + list.reduce((m, r) => m + recordBytes(r), 0), 0);
    const entry: CacheEntry = { ...e, storedAt: now, expires: now + e.ttl * 1000, bytes, hits: 0, prefetching: false };
    if (old) this.remove(key, old);
    // A positive RRset for a name proves it exists: drop a cached NXDOMAIN for it.
    if (e.kind === 'rrset') {
      const nx = keyOf(e.name, 'NX', e.class);
      const nxEntry = this.map.get(nx);
      if (nxEntry) this.remove(nx, nxEntry);
    }
    this.map.set(key, entry);
    this.touch(key);
    this.bytes += bytes;
    this.stats.inserts++;
    this.evict();
    this.syncStats();
    return true;
  }

  private remove(key: string, e: CacheEntry): void {
    this.map.delete(key);
    this.bytes -= e.bytes;
    this.touch(key);
  }

  /** A change at `key`: precompiled answers that read it are void. */
  private touch(key: string): void {
    if (this.watches.size === 0) return;
    const w = this.watches.get(key);
    if (w) {
      w.v++;
      if (w.above) this.aboveGeneration++;
      const deps = w.deps;
      if (deps) {
        w.deps = undefined;
        for (let i = 0; i < deps.length; i++) deps[i]!.dead = true;
      }
    }
  }

  /**
   * Registers `dep` with every key `trace` read, when none changed since: true. A later change
   * at any of them sets `dep.dead`.
   */
  depend(trace: CacheTrace, dep: WatchDependent): boolean {
    if (trace.generation !== this.generation || trace.aboveGeneration !== this.aboveGeneration) return false;
    const { watches, versions } = trace;
    for (let i = 0; i < watches.length; i++) if (watches[i]!.v !== versions[i]) return false;
    for (const w of watches) {
      if (!w.deps) w.deps = [dep];
      else {
        if (w.deps.length >= DEPS_COMPACT) w.deps = w.deps.filter((d) => !d.dead);
        w.deps.push(dep);
      }
    }
    return true;
  }

  /**
   * Forgets every watch (their dependents are gone: the precompiled replies were dropped); the
   * generation moves on so that no trace begun before can register.
   */
  resetWatches(): void {
    this.watches.clear();
    this.generation++;
  }

  /** A trace for one resolution (see CacheTrace). */
  trace(): CacheTrace {
    return new CacheTrace(this.generation, this.aboveGeneration);
  }

  private watch(key: string, trace: CacheTrace, above: boolean): void {
    let w = this.watches.get(key);
    if (!w) {
      if (this.watches.size >= MAX_WATCHES) {
        this.watches.clear();
        this.generation++;
      }
      w = { v: 0, above, deps: undefined };
      this.watches.set(key, w);
    }
    if (above) {
      // Checked through aboveGeneration, which the trace captured when it began.
      w.above = true;
      return;
    }
    trace.watches.push(w);
    trace.versions.push(w.v);
  }

  private evict(): void {
    const now = this.clock.now();
    while (this.bytes > this.config.maxBytes && this.map.size > 0) {
      const [k, e] = this.map.entries().next().value as [string, CacheEntry];
      this.remove(k, e);
      this.stats.evictions++;
    }
    // Opportunistically drop a few entries that are past the stale window.
    let looked = 0;
    for (const [k, e] of this.map) {
      if (++looked > 4) break;
      if (now >= e.expires + this.config.staleKeep * 1000) this.remove(k, e);
    }
  }

  private syncStats(): void {
    this.stats.entries = this.map.size;
    this.stats.bytes = this.bytes;
  }

  private hit(key: string, stale: boolean, trace?: CacheTrace, above = false): CacheHit | undefined {
    const h = this.lookupKey(key, stale);
    // A trace already past the cache (upstream, synthesis) is never used: nothing more to note.
    if (trace && trace.complete) {
      // Watched after the lookup: removing a long-expired entry there is not a later change.
      this.watch(key, trace, above);
      if (h) {
        if (h.stale) trace.complete = false;
        else for (const list of [h.rrs, h.soa, h.sigs, h.proof]) for (const r of list) trace.entries.set(r, h.entry);
      }
    }
    return h;
  }

  private lookupKey(key: string, stale: boolean): CacheHit | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    const now = this.clock.now();
    if (now >= e.expires) {
      if (now >= e.expires + this.config.staleKeep * 1000) {
        this.remove(key, e);
        this.syncStats();
        return undefined;
      }
      if (!stale) return undefined;
      const ttl = this.config.staleTtl;
      const at = (r: ResourceRecord) => ({ ...r, ttl });
      return { entry: e, rrs: e.rrs.map(at), soa: e.soa.map(at), sigs: e.sigs.map(at), proof: e.proof.map(at), stale: true, remaining: 0 };
    }
    // Refresh the LRU position.
    this.map.delete(key);
    this.map.set(key, e);
    e.hits++;
    const remaining = Math.max(0, Math.floor((e.expires - now) / 1000));
    const at = (r: ResourceRecord) => ({ ...r, ttl: remaining });
    return { entry: e, rrs: e.rrs.map(at), soa: e.soa.map(at), sigs: e.sigs.map(at), proof: e.proof.map(at), stale: false, remaining };
  }

  /**
   * A hit that did not go through get(): moves a live entry to the young end of the LRU order
   * and counts it (prefetch popularity), as a read would.
   */
  refresh(e: CacheEntry, hits: number): void {
    const key = keyOf(e.name, e.kind === 'nxdomain' ? 'NX' : e.type, e.class);
    if (this.map.get(key) !== e) return;
    this.map.delete(key);
    this.map.set(key, e);
    e.hits += hits;
  }

  /** The RRset (name, type, class), or a cached NODATA for it. */
  get(name: Name, type: number, cls: number, stale = false, trace?: CacheTrace): CacheHit | undefined {
    const h = this.hit(keyOf(name, type, cls), stale, trace);
    if (h) this.stats.hits++;
    else this.stats.misses++;
    return h;
  }

  /**
   * Records the DNSSEC state of an entry (RRset or NODATA for name/type, or NXDOMAIN when
   * `type` is 'NX') and shortens its life to `ttl` seconds when given (signature expiry,
   * bogus data kept only briefly, RFC 4035 §4.7).
   */
  setSecurity(name: Name, type: number | 'NX', cls: number, security: Security, ede?: { infoCode: number; text: string }, ttl?: number): void {
    const key = keyOf(name, type, cls);
    const e = this.map.get(key);
    if (!e) return;
    this.touch(key);
    e.security = security;
    e.ede = ede;
    if (ttl !== undefined) e.expires = Math.min(e.expires, e.storedAt + Math.max(0, ttl) * 1000);
  }

  /** A cached NXDOMAIN for the name (`above`: read for a name below it, RFC 8020). */
  getNxdomain(name: Name, cls: number, stale = false, trace?: CacheTrace, above = false): CacheHit | undefined {
    return this.hit(keyOf(name, 'NX', cls), stale, trace, above);
  }

  /** Removes everything at or below `name` (all when absent). Returns the count removed. */
  flush(name?: Name): number {
    let n = 0;
    for (const [k, e] of this.map) {
      if (!name || e.name.isSubdomainOf(name)) {
        this.remove(k, e);
        n++;
      }
    }
    this.generation++;
    this.syncStats();
    return n;
  }

  /** Marks every entry expired (tests, `ctl flush --expire`): kept for serve-stale. */
  expireAll(): void {
    const now = this.clock.now();
    this.generation++;
    for (const [k, e] of this.map) this.map.set(k, { ...e, expires: Math.min(e.expires, now) });
  }
}

function rdataKey(r: ResourceRecord): string {
  try {
    return Buffer.from(r.data instanceof Uint8Array ? r.data : encodeRdata(r.type, r.data, true)).toString('hex');
  } catch {
    return JSON.stringify(r.data);
  }
}

/** Do two record lists hold the same data (as sets, TTLs aside)? */
export function sameRecords(a: readonly ResourceRecord[], b: readonly ResourceRecord[]): boolean {
  if (a.length !== b.length) return false;
  const ka = new Set(a.map(rdataKey));
  return b.every((r) => ka.has(rdataKey(r)));
}

function dedupe(rrs: readonly ResourceRecord[]): ResourceRecord[] {
  const seen = new Set<string>();
  const out: ResourceRecord[] = [];
  for (const r of rrs) {
    let k: string;
    try {
      k = Buffer.from(r.data instanceof Uint8Array ? r.data : encodeRdata(r.type, r.data, true)).toString('hex');
    } catch {
      k = JSON.stringify(r.data);
    }
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r);
  }
  return out;
}
