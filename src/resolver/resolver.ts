import { randomInt } from 'node:crypto';
import { Name, Rcode, RRClass, RRType, type ResourceRecord } from '../wire/index.js';
import { Cache, type CacheConfig, type CacheHit } from './cache.js';
import { Iterator, LimitError, Plan, type Ede, type ForwardZone } from './iterate.js';
import { ianaRootHints, type RootHints } from './root-hints.js';
import { ServerSelector, type SelectionConfig } from './servers.js';
import { NetUpstream } from './upstream.js';
import {
  defaultLimits, systemClock, type Clock, type Limits, type ResolveOptions, type ResolveResult, type ServerAddress, type Upstream,
} from './types.js';

export interface ForwardConfig {
  /** Zone apex; "." forwards everything. */
  zone: Name | string;
  /** Server addresses: "192.0.2.1", "192.0.2.1@5353", "127.0.0.1:5353", "[::1]:5353". */
  to: Array<string | ServerAddress>;
  /** forward (default): recursive servers, RD=1. stub: authoritative servers for the zone. */
  kind?: 'forward' | 'stub';
}

export interface ResolverOptions {
  rootHints?: RootHints;
  upstream?: Upstream;
  clock?: Clock;
  limits?: Partial<Limits>;
  forward?: ForwardConfig[];
  /** RFC 9156 relaxed mode (default true). */
  qnameMinimisation?: boolean;
  /** QTYPE of minimised queries: 'A' (default, as Unbound) or 'NS' (RFC 7816, as Knot Resolver). */
  minimisedType?: 'A' | 'NS';
  /** 0x20 randomisation of the query name's case (default true). */
  caseRandomisation?: boolean;
  /** Destination port of upstream queries (default 53). */
  queryPort?: number;
  /** Use IPv6 server addresses (default true). */
  ipv6?: boolean;
  cache?: Partial<CacheConfig>;
  /** RFC 8767 serve-stale when upstreams fail (default true). */
  serveStale?: boolean;
  /** Refresh popular entries before they expire (default true). */
  prefetch?: boolean;
  /** Hits an entry needs before it counts as popular for prefetch. */
  prefetchMinHits?: number;
  selection?: Partial<SelectionConfig>;
  /** EDNS UDP payload size announced upstream (default 1232, the DNS flag day value). */
  ednsUdpSize?: number;
  /**
   * Minimal responses (default true): only the answer chain, and the SOA for negative answers.
   * With false, positive answers also carry the zone's NS RRset and known addresses of those
   * servers, as Unbound's `minimal-responses: no`.
   */
  minimalResponses?: boolean;
  /** Random source in [0,1) (server exploration, 0x20); tests pass a seeded one. */
  random?: () => number;
}

export interface ResolverStats {
  queries: number;
  coalesced: number;
  servfail: number;
  stale: number;
  prefetches: number;
  limitHits: number;
}

const EDE_STALE = 3;
const EDE_STALE_NXDOMAIN = 19;
const EDE_OTHER = 0;

/** Parses "addr", "addr@port", "v4:port" or "[v6]:port". */
export function parseServerAddress(text: string, defaultPort: number): ServerAddress {
  let m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (m) return { address: m[1]!, port: m[2] ? Number(m[2]) : defaultPort };
  m = /^([^@]+)@(\d+)$/.exec(text);
  if (m) return { address: m[1]!, port: Number(m[2]) };
  m = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(text);
  if (m) return { address: m[1]!, port: Number(m[2]) };
  return { address: text, port: defaultPort };
}

function cryptoRandom(): number {
  return randomInt(0, 2 ** 30) / 2 ** 30;
}

/**
 * The recursive resolver: cache, then iteration (or forwarding), with identical in-flight
 * questions coalesced, serve-stale on failure and prefetch of popular names.
 */
export class Resolver {
  readonly cache: Cache;
  readonly selector: ServerSelector;
  readonly stats: ResolverStats = { queries: 0, coalesced: 0, servfail: 0, stale: 0, prefetches: 0, limitHits: 0 };
  private readonly iterator: Iterator;
  private readonly limits: Limits;
  private readonly inflight = new Map<string, Promise<ResolveResult>>();
  private readonly opts: ResolverOptions;

  constructor(opts: ResolverOptions = {}) {
    this.opts = opts;
    const clock = opts.clock ?? systemClock;
    const random = opts.random ?? cryptoRandom;
    const queryPort = opts.queryPort ?? 53;
    this.limits = { ...defaultLimits, ...opts.limits };
    this.cache = new Cache(clock, { ...opts.cache, ...(opts.serveStale === false ? { staleKeep: 0 } : {}) });
    this.selector = new ServerSelector(clock, random, opts.selection);
    const forwards: ForwardZone[] = (opts.forward ?? []).map((f) => ({
      zone: typeof f.zone === 'string' ? Name.parse(f.zone.endsWith('.') ? f.zone : f.zone + '.') : f.zone,
      servers: f.to.map((t) => (typeof t === 'string' ? parseServerAddress(t, queryPort) : t)),
      kind: f.kind ?? 'forward',
    }));
    this.iterator = new Iterator(
      this.cache, this.selector, opts.upstream ?? new NetUpstream(), clock, opts.rootHints ?? ianaRootHints, forwards,
      {
        qnameMinimisation: opts.qnameMinimisation ?? true,
        minimisedType: opts.minimisedType === 'NS' ? RRType.NS : RRType.A,
        caseRandomisation: opts.caseRandomisation ?? true,
        queryPort,
        ipv6: opts.ipv6 ?? true,
        ednsUdpSize: opts.ednsUdpSize ?? 1232,
      },
      random,
      { resolveAddresses: (name, plan, depth) => this.resolveAddresses(name, plan, depth) },
    );
  }

  /** Resolves one question. Never throws: failures are SERVFAIL with an EDE saying why. */
  resolve(qname: Name | string, qtype: number, qclass: number = RRClass.IN, opts: ResolveOptions = {}): Promise<ResolveResult> {
    const name = typeof qname === 'string' ? Name.parse(qname.endsWith('.') ? qname : qname + '.') : qname;
    this.stats.queries++;
    const key = `${name.key}/${qtype}/${qclass}/${opts.cd ? 1 : 0}`;
    const running = this.inflight.get(key);
    if (running) {
      this.stats.coalesced++;
      return running.then(copyResult);
    }
    const p = this.run(name, qtype, qclass).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p.then(copyResult);
  }

  private async run(name: Name, qtype: number, qclass: number): Promise<ResolveResult> {
    const plan = new Plan(this.limits);
    let res: ResolveResult;
    try {
      res = await this.resolveChain(name, qtype, qclass, plan, 0);
    } catch (e) {
      if (e instanceof LimitError) this.stats.limitHits++;
      res = servfail({ infoCode: EDE_OTHER, text: e instanceof LimitError ? `resolution limit: ${e.message}` : `internal error: ${(e as Error).message}` });
    }
    if (res.rcode === Rcode.SERVFAIL) {
      if (this.opts.serveStale !== false) {
        const stale = this.fromCache(name, qtype, qclass, true);
        if (stale) {
          this.stats.stale++;
          const code = stale.rcode === Rcode.NXDOMAIN ? EDE_STALE_NXDOMAIN : EDE_STALE;
          return { ...stale, ede: { infoCode: code, text: `stale answer: ${res.ede?.text ?? 'upstream failed'}` } };
        }
      }
      this.stats.servfail++;
    }
    if (this.opts.minimalResponses === false && res.rcode === Rcode.NOERROR && res.answer.length > 0) this.addZoneServers(res, qclass);
    return res;
  }

  /** Non-minimal answers: NS RRset of the zone holding the final answer, and its servers' addresses. */
  private addZoneServers(res: ResolveResult, qclass: number): void {
    const last = res.answer[res.answer.length - 1]!;
    for (let n = last.name; ; n = n.parent()) {
      const h = this.cache.get(n, RRType.NS, qclass);
      if (h && h.entry.kind === 'rrset') {
        if (last.type === RRType.NS && last.name.equals(n)) return;
        res.authority = h.rrs;
        for (const ns of h.rrs) {
          const target = (ns.data as { target: Name }).target;
          for (const t of [RRType.A, RRType.AAAA]) {
            const a = this.cache.get(target, t, qclass);
            if (a && a.entry.kind === 'rrset') res.additional.push(...a.rrs);
          }
        }
        return;
      }
      if (n.isRoot) return;
    }
  }

  /** Follows the chain from `name` through the cache and, where it ends, upstream. */
  private async resolveChain(name: Name, qtype: number, qclass: number, plan: Plan, depth: number): Promise<ResolveResult> {
    const answer: ResourceRecord[] = [];
    let sname = name;
    const seen = new Set<string>([sname.key]);
    let links = 0;
    for (;;) {
      const cached = this.lookup(sname, qtype, qclass, false);
      let next: Name;
      if (cached) {
        if (cached.kind === 'cname') {
          answer.push(...cached.rrs);
          next = (cached.rrs[0]!.data as { target: Name }).target;
          links++;
        } else {
          return { rcode: cached.kind === 'nxdomain' ? Rcode.NXDOMAIN : Rcode.NOERROR, answer: answer.concat(cached.rrs), authority: cached.soa, additional: [] };
        }
      } else {
        const r = await this.iterator.fetch(sname, qtype, qclass, plan, depth);
        if (r.kind === 'fail') return servfail(r.ede);
        answer.push(...this.cache.capRecords(r.chain));
        if (r.kind === 'answer') return { rcode: Rcode.NOERROR, answer: answer.concat(this.cache.capRecords(r.rrs)), authority: [], additional: [] };
        if (r.kind !== 'cname') {
          return { rcode: r.kind === 'nxdomain' ? Rcode.NXDOMAIN : Rcode.NOERROR, answer, authority: this.cache.capNegative(r.soa), additional: [] };
        }
        next = r.target;
        links += r.chain.filter((x) => x.type === RRType.CNAME).length;
      }
      if (links > this.limits.maxCnameChain) return servfail({ infoCode: EDE_OTHER, text: `CNAME chain longer than ${this.limits.maxCnameChain}` });
      if (seen.has(next.key)) return servfail({ infoCode: EDE_OTHER, text: `CNAME loop at ${next}` });
      seen.add(next.key);
      sname = next;
    }
  }

  private lookup(name: Name, qtype: number, qclass: number, stale: boolean):
    | { kind: 'answer' | 'cname' | 'nodata' | 'nxdomain'; rrs: ResourceRecord[]; soa: ResourceRecord[] }
    | undefined {
    const nx = this.cache.getNxdomain(name, qclass, stale);
    if (nx) return { kind: 'nxdomain', rrs: [], soa: nx.soa };
    const h = this.cache.get(name, qtype, qclass, stale);
    if (h) {
      if (!stale) this.maybePrefetch(h, name, qtype, qclass);
      return h.entry.kind === 'nodata' ? { kind: 'nodata', rrs: [], soa: h.soa } : { kind: 'answer', rrs: h.rrs, soa: [] };
    }
    if (qtype !== RRType.CNAME) {
      const c = this.cache.get(name, RRType.CNAME, qclass, stale);
      if (c && c.entry.kind === 'rrset') return { kind: 'cname', rrs: c.rrs.slice(0, 1), soa: [] };
    }
    return undefined;
  }

  /** Answer built from the cache alone (stale allowed): the RFC 8767 fallback. */
  private fromCache(name: Name, qtype: number, qclass: number, stale: boolean): ResolveResult | undefined {
    const answer: ResourceRecord[] = [];
    let sname = name;
    for (let i = 0; i <= this.limits.maxCnameChain; i++) {
      const c = this.lookup(sname, qtype, qclass, stale);
      if (!c) return undefined;
      answer.push(...c.rrs);
      if (c.kind !== 'cname') {
        return { rcode: c.kind === 'nxdomain' ? Rcode.NXDOMAIN : Rcode.NOERROR, answer, authority: c.soa, additional: [] };
      }
      sname = (c.rrs[0]!.data as { target: Name }).target;
    }
    return undefined;
  }

  /** Prefetch (as Unbound does): a popular entry in the last 10% of its TTL is refreshed in the background. */
  private maybePrefetch(h: CacheHit, name: Name, qtype: number, qclass: number): void {
    if (this.opts.prefetch === false || h.entry.prefetching || h.entry.ttl < 10) return;
    if (h.entry.hits < (this.opts.prefetchMinHits ?? 2) || h.remaining > h.entry.ttl * 0.1) return;
    h.entry.prefetching = true;
    this.stats.prefetches++;
    const plan = new Plan(this.limits);
    this.iterator.fetch(name, qtype, qclass, plan, 0).catch(() => undefined);
  }

  /** Addresses of a name server name (A, then AAAA), as a sub-resolution of the same plan. */
  private async resolveAddresses(name: Name, plan: Plan, depth: number): Promise<string[]> {
    const out: string[] = [];
    for (const t of this.opts.ipv6 === false ? [RRType.A] : [RRType.A, RRType.AAAA]) {
      const key = `${name.key}/${t}`;
      if (plan.active.has(key)) continue; // a cycle: this lookup is already under way further up
      plan.active.add(key);
      try {
        const r = await this.resolveChain(name, t, RRClass.IN, plan, depth);
        for (const rr of r.answer) if (rr.type === t) out.push((rr.data as { address: string }).address);
      } finally {
        plan.active.delete(key);
      }
      if (out.length > 0) break;
    }
    return out;
  }
}

function servfail(ede: Ede): ResolveResult {
  return { rcode: Rcode.SERVFAIL, answer: [], authority: [], additional: [], ede };
}

function copyResult(r: ResolveResult): ResolveResult {
  return { ...r, answer: [...r.answer], authority: [...r.authority], additional: [...r.additional] };
}
