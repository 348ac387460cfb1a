import type { Registry } from 'prom-client';
import { promClient } from './prom.js';

/**
 * What the resolver metrics read, at scrape time only (nothing on the query path). Shaped after
 * `Resolver` (src/resolver) without importing it: the monitor sits below the resolver.
 */
export interface ResolverStatsSource {
  /** Objects of numeric counters (interfaces such as `ResolverStats`, read by key). */
  readonly stats: object;
  readonly cache: { readonly stats: object; readonly size: number };
  readonly validator?: { readonly stats: object } | undefined;
  readonly denials?: { readonly stats: object } | undefined;
  /** The precompiled replies (`AnswerCache.stats`: hits, stores, invalidated). */
  readonly answers?: { readonly stats: object } | undefined;
}

type Counts = Readonly<Record<string, number>>;

/** Counters of `Resolver.stats`, by metric name. */
const RESOLVER_COUNTERS: ReadonlyArray<[stat: string, name: string, help: string]> = [
  ['queries', 'portcullis_resolver_queries_total', 'Questions the resolver was asked (coalesced ones included)'],
  ['coalesced', 'portcullis_resolver_coalesced_total', 'Questions that joined an identical resolution already running'],
  ['servfail', 'portcullis_resolver_servfail_total', 'Resolutions that ended in SERVFAIL (no stale data to serve)'],
  ['stale', 'portcullis_resolver_stale_answers_total', 'Stale answers served (RFC 8767), after a failure or on the client timer'],
  ['staleEarly', 'portcullis_resolver_stale_early_total', 'Stale answers served because the resolution was still running (RFC 8767 client timer)'],
  ['prefetches', 'portcullis_resolver_prefetches_total', 'Popular entries refreshed before they expired'],
  ['limitHits', 'portcullis_resolver_limit_hits_total', 'Resolutions stopped by a work limit (upstream queries, NS names, depth)'],
  ['primes', 'portcullis_resolver_primes_total', 'Root priming queries (RFC 8109)'],
  ['primeFailures', 'portcullis_resolver_prime_failures_total', 'Root priming queries that failed'],
  ['aggressive', 'portcullis_resolver_aggressive_answers_total', 'Answers synthesised from cached NSEC/NSEC3 (RFC 8198)'],
  ['nxdomainCut', 'portcullis_resolver_nxdomain_cut_total', 'NXDOMAIN answers from a cached NXDOMAIN above the name (RFC 8020)'],
];

/**
 * Registers the `portcullis_resolver_*` metrics once per registry. `current` returns the resolver
 * in use, or undefined without recursion; when a reload replaces it, the old one's counts are
 * added to a base so the counters never go down.
 *
 *   portcullis_resolver_queries_total, _coalesced_total, _servfail_total, _stale_answers_total,
 *     _stale_early_total, _prefetches_total, _limit_hits_total, _primes_total,
 *     _prime_failures_total, _aggressive_answers_total, _nxdomain_cut_total
 *   portcullis_resolver_cache_lookups_total{result="hit"|"miss"}, _cache_inserts_total,
 *     _cache_evictions_total, portcullis_resolver_cache_entries, _cache_bytes
 *   portcullis_resolver_validations_total{result="secure"|"insecure"|"bogus"}, _dnskey_fetches_total
 *   portcullis_resolver_denial_zones, _denial_records (RFC 8198 store)
 *   portcullis_resolver_precompiled_total{event="hit"|"store"|"invalidated"}
 */
export function registerResolverMetrics(registry: Registry, current: () => ResolverStatsSource | undefined): void {
  const { Counter, Gauge } = promClient();
  // Cumulative counts of resolvers replaced by reloads, per "group.stat".
  const base = new Map<string, number>();
  let last: ResolverStatsSource | undefined;
  const groups = (r: ResolverStatsSource | undefined): Record<string, Counts | undefined> => ({
    resolver: r?.stats as Counts | undefined, cache: r?.cache.stats as Counts | undefined,
    validator: r?.validator?.stats as Counts | undefined, denials: r?.denials?.stats as Counts | undefined,
    answers: r?.answers?.stats as Counts | undefined,
  });
  const COUNTED = new Set(['resolver', 'cache', 'validator', 'answers']);
  const total = (group: string, stat: string): number => {
    const r = current();
    if (r !== last) {
      for (const [g, stats] of Object.entries(groups(last))) {
        if (!stats || !COUNTED.has(g)) continue;
        for (const [k, v] of Object.entries(stats)) base.set(g + '.' + k, (base.get(g + '.' + k) ?? 0) + v);
      }
      last = r;
    }
    const now = groups(r)[group]?.[stat] ?? 0;
    return (base.get(group + '.' + stat) ?? 0) + now;
  };
  const registers = [registry];

  for (const [stat, name, help] of RESOLVER_COUNTERS) {
    new Counter({ name, help, registers, collect() { this.reset(); this.inc(total('resolver', stat)); } });
  }
  new Counter({
    name: 'portcullis_resolver_cache_lookups_total', help: 'Resolver cache lookups (every lookup of a resolution, not per client query), by result',
    labelNames: ['result'], registers,
    collect() {
      this.reset();
      this.inc({ result: 'hit' }, total('cache', 'hits'));
      this.inc({ result: 'miss' }, total('cache', 'misses'));
    },
  });
  new Counter({ name: 'portcullis_resolver_cache_inserts_total', help: 'RRsets and negative answers stored in the resolver cache', registers, collect() { this.reset(); this.inc(total('cache', 'inserts')); } });
  new Counter({ name: 'portcullis_resolver_cache_evictions_total', help: 'Resolver cache entries evicted to stay within the size limit', registers, collect() { this.reset(); this.inc(total('cache', 'evictions')); } });
  new Gauge({ name: 'portcullis_resolver_cache_bytes', help: 'Estimated bytes held by the resolver cache', registers, collect() { this.set((current()?.cache.stats as Counts | undefined)?.bytes ?? 0); } });
  new Gauge({ name: 'portcullis_resolver_cache_entries', help: 'Entries in the resolver cache (RRsets and negative answers)', registers, collect() { this.set(current()?.cache.size ?? 0); } });
  new Counter({
    name: 'portcullis_resolver_validations_total', help: 'DNSSEC validation outcomes of fetched answers, by result', labelNames: ['result'], registers,
    collect() {
      this.reset();
      for (const result of ['secure', 'insecure', 'bogus']) this.inc({ result }, total('validator', result));
    },
  });
  new Counter({ name: 'portcullis_resolver_dnskey_fetches_total', help: 'DNSKEY RRsets fetched for validation', registers, collect() { this.reset(); this.inc(total('validator', 'keyFetches')); } });
  new Counter({
    name: 'portcullis_resolver_precompiled_total',
    help: 'Precompiled resolver replies: hits (answered from the kept bytes), stores, and replies dropped because the cache data under them changed, ran out or was flushed',
    labelNames: ['event'], registers,
    collect() {
      this.reset();
      this.inc({ event: 'hit' }, total('answers', 'hits'));
      this.inc({ event: 'store' }, total('answers', 'stores'));
      this.inc({ event: 'invalidated' }, total('answers', 'invalidated'));
    },
  });
  new Gauge({ name: 'portcullis_resolver_denial_zones', help: 'Zones with validated NSEC/NSEC3 kept for aggressive use (RFC 8198)', registers, collect() { this.set((current()?.denials?.stats as Counts | undefined)?.zones ?? 0); } });
  new Gauge({ name: 'portcullis_resolver_denial_records', help: 'Validated NSEC/NSEC3 records kept for aggressive use (RFC 8198)', registers, collect() { this.set((current()?.denials?.stats as Counts | undefined)?.records ?? 0); } });
}
