import { randomInt } from 'node:crypto';
import { Name, Rcode, RRClass, RRType, type ResourceRecord } from '../wire/index.js';
import { DenialStore } from './aggressive.js';
import { Cache, Rank, type CacheConfig, type CacheHit, type CacheTrace } from './cache.js';
import { AnswerCache, DEFAULT_ANSWER_CACHE } from './answer-cache.js';
import { NegativeTrustAnchors, TrustAnchors } from '../dnssec/trust-anchors.js';
import { defaultValidationLimits, ValidationBudget, type Security, type ValidationLimits } from '../dnssec/validate.js';
import { Iterator, LimitError, Plan, type Ede, type FetchResult, type ForwardZone } from './iterate.js';
import { Validator, worse, type ValidatedAnswer, type Verdict } from './validate.js';
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
  /** DNSSEC validation (default 'validate'). */
  dnssec?: 'validate' | 'off';
  /** Trust anchors (default: the IANA root KSKs). */
  trustAnchors?: TrustAnchors;
  /** Negative trust anchors (RFC 7646): no validation at or below `name` until `until` (ms since the epoch). */
  negativeTrustAnchors?: Array<{ name: Name | string; until?: number }>;
  /** KeyTrap / NSEC3 limits and the SHA-1 test switch. */
  validation?: Partial<ValidationLimits>;
  /** Seconds since the epoch used for signature validity (default: the clock); scenarios fix it. */
  validationTime?: () => number;
  /** Seconds bogus data and bogus key states are remembered (default 60). */
  bogusTtl?: number;
  /**
   * RFC 8767 "stale answer client timeout" (ms, default 1800): when a resolution runs longer and
   * expired data is cached, the client gets the stale answer while the resolution goes on and
   * refreshes the cache. 0 serves stale data only after a resolution failed.
   */
  staleClientTimeout?: number;
  /** RFC 8109: ask the root hints for the root NS set before the first iteration and when it expires (default true). */
  primeRoot?: boolean;
  /** RFC 8198: answer NXDOMAIN/NODATA from cached, validated NSEC/NSEC3 (default true; needs validation). */
  aggressiveNsec?: boolean;
  /** RFC 8020: a cached NXDOMAIN for a name answers every name below it (default true). */
  nxdomainCut?: boolean;
  /**
   * Precompiled answers kept (default 100000; 0 turns them off): encoded replies to questions
   * answered from the cache alone, reused with ID, flags, question case and TTLs patched.
   */
  answerCache?: number;
}

export interface ResolverStats {
  queries: number;
  coalesced: number;
  servfail: number;
  stale: number;
  prefetches: number;
  limitHits: number;
  /** Stale answers sent because the resolution was still running (RFC 8767 client timeout). */
  staleEarly: number;
  /** Root priming queries (RFC 8109) and how many of them failed. */
  primes: number;
  primeFailures: number;
  /** Answers synthesised from cached NSEC/NSEC3 (RFC 8198). */
  aggressive: number;
  /** NXDOMAIN answers from a cached NXDOMAIN above the name (RFC 8020). */
  nxdomainCut: number;
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
  /** Precompiled replies over `cache` (answer-cache.ts). */
  readonly answers: AnswerCache;
  readonly selector: ServerSelector;
  readonly stats: ResolverStats = {
    queries: 0, coalesced: 0, servfail: 0, stale: 0, prefetches: 0, limitHits: 0, staleEarly: 0, primes: 0, primeFailures: 0, aggressive: 0, nxdomainCut: 0,
  };
  /** Validated NSEC/NSEC3 per zone for RFC 8198; undefined when off or not validating. */
  readonly denials: DenialStore | undefined;
  private readonly clock: Clock;
  private readonly hasRootForward: boolean;
  private priming: Promise<boolean> | undefined;
  /** After a failed priming the hints are used as given until this time (ms), then priming is retried. */
  private primeRetryAt = 0;
  private readonly iterator: Iterator;
  private readonly limits: Limits;
  private readonly inflight = new Map<string, Promise<ResolveResult>>();
  private readonly opts: ResolverOptions;
  /** The validate layer; undefined when `dnssec: off`. */
  readonly validator: Validator | undefined;
  private readonly validationLimits: ValidationLimits;

  constructor(opts: ResolverOptions = {}) {
    this.opts = opts;
    const clock = opts.clock ?? systemClock;
    this.clock = clock;
    const random = opts.random ?? cryptoRandom;
    const queryPort = opts.queryPort ?? 53;
    this.limits = { ...defaultLimits, ...opts.limits };
    this.cache = new Cache(clock, { ...opts.cache, ...(opts.serveStale === false ? { staleKeep: 0 } : {}) });
    this.answers = new AnswerCache(this.cache, clock, { max: opts.answerCache ?? DEFAULT_ANSWER_CACHE, prefetch: opts.prefetch !== false });
    this.selector = new ServerSelector(clock, random, opts.selection);
    this.validationLimits = { ...defaultValidationLimits, ...opts.validation };
    const validating = opts.dnssec !== 'off';
    if (validating) {
      const negative = new NegativeTrustAnchors();
      for (const n of opts.negativeTrustAnchors ?? []) negative.add(typeof n.name === 'string' ? Name.parse(n.name.endsWith('.') ? n.name : n.name + '.') : n.name, n.until ?? Infinity);
      this.validator = new Validator({
        anchors: opts.trustAnchors ?? TrustAnchors.root(),
        negative,
        now: opts.validationTime ?? (() => Math.floor(clock.now() / 1000)),
        clock,
        bogusTtl: opts.bogusTtl ?? 60,
      }, {
        resolveValidated: (name, t, c, plan, depth) => this.resolveValidated(name, t, c, plan, depth),
        fetchRaw: (name, t, c, plan, depth) => this.fetchRaw(name, t, c, plan, depth),
      });
    }
    this.denials = validating && opts.aggressiveNsec !== false ? new DenialStore(clock) : undefined;
    const forwards: ForwardZone[] = (opts.forward ?? []).map((f) => ({
      zone: typeof f.zone === 'string' ? Name.parse(f.zone.endsWith('.') ? f.zone : f.zone + '.') : f.zone,
      servers: f.to.map((t) => (typeof t === 'string' ? parseServerAddress(t, queryPort) : t)),
      kind: f.kind ?? 'forward',
    }));
    this.hasRootForward = forwards.some((f) => f.zone.isRoot);
    this.iterator = new Iterator(
      this.cache, this.selector, opts.upstream ?? new NetUpstream(), clock, opts.rootHints ?? ianaRootHints, forwards,
      {
        qnameMinimisation: opts.qnameMinimisation ?? true,
        minimisedType: opts.minimisedType === 'NS' ? RRType.NS : RRType.A,
        caseRandomisation: opts.caseRandomisation ?? true,
        queryPort,
        ipv6: opts.ipv6 ?? true,
        ednsUdpSize: opts.ednsUdpSize ?? 1232,
        dnssec: validating,
      },
      random,
      { resolveAddresses: (name, plan, depth) => this.resolveAddresses(name, plan, depth), primeRoot: () => this.primeIfNeeded() },
    );
  }

  /**
   * Resolves one question. Never throws: failures are SERVFAIL with an EDE saying why. With
   * `trace`, what the resolution read from the cache is recorded there (for precompiled answers).
   */
  resolve(qname: Name | string, qtype: number, qclass: number = RRClass.IN, opts: ResolveOptions & { trace?: CacheTrace } = {}): Promise<ResolveResult> {
    const name = typeof qname === 'string' ? Name.parse(qname.endsWith('.') ? qname : qname + '.') : qname;
    this.stats.queries++;
    const key = `${name.key}/${qtype}/${qclass}/${opts.cd ? 1 : 0}`;
    let p = this.inflight.get(key);
    let joined = false;
    const trace = opts.trace;
    if (p) {
      this.stats.coalesced++;
      joined = true;
      if (trace) trace.complete = false;
    } else {
      // A negative trust anchor ends at a time: whether the name is validated changes with it.
      if (trace && this.validator?.config.negative.covering(name, this.clock.now())) trace.complete = false;
      p = this.run(name, qtype, qclass, opts.cd === true, trace).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return this.withStaleTimer(p, name, qtype, qclass).then((r) => {
      const out = opts.do ? copyResult(r) : withoutDnssec(r, qtype);
      if (joined) out.fromCache = false;
      return out;
    });
  }

  /**
   * RFC 8767 §5 client response timer: if the resolution is still running after
   * `staleClientTimeout` ms and the cache holds expired (not bogus) data for the question, that
   * is the answer (EDE 3, or 19 for NXDOMAIN); the resolution goes on and refreshes the cache.
   */
  private withStaleTimer(p: Promise<ResolveResult>, name: Name, qtype: number, qclass: number): Promise<ResolveResult> {
    const wait = this.opts.staleClientTimeout ?? 1800;
    if (this.opts.serveStale === false || wait <= 0) return p;
    return new Promise<ResolveResult>((resolve) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        const stale = this.fromCache(name, qtype, qclass, true);
        if (!stale) return; // nothing to serve: keep waiting for the resolution
        settled = true;
        this.stats.stale++;
        this.stats.staleEarly++;
        const code = stale.rcode === Rcode.NXDOMAIN ? EDE_STALE_NXDOMAIN : EDE_STALE;
        resolve({ ...stale, ede: { infoCode: code, text: 'stale answer: resolution still running' }, fromCache: false });
      }, wait);
      timer.unref?.();
      void p.then((r) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        resolve(r);
      });
    });
  }

  /**
   * RFC 8109 priming: asks a root hint server for the root NS RRset and caches it with the
   * addresses in its additional section. Iteration then uses the primed set (the hints only
   * start it); when the set expires the next question primes again. Concurrent calls share
   * one query. Returns whether the root NS set is now cached. The server may call this at
   * start; otherwise the first question that needs the root does.
   */
  prime(): Promise<boolean> {
    if (this.priming) return this.priming;
    this.stats.primes++;
    const plan = this.newPlan();
    this.priming = this.iterator.prime(RRClass.IN, plan)
      .catch(() => false)
      .then((ok) => {
        if (!ok) {
          this.stats.primeFailures++;
          this.primeRetryAt = this.clock.now() + 60_000;
        }
        return ok;
      })
      .finally(() => { this.priming = undefined; });
    return this.priming;
  }

  /** Primes when iteration would start from the bare hints (first use, expiry of the primed set). */
  private async primeIfNeeded(): Promise<boolean> {
    if (this.opts.primeRoot === false || this.hasRootForward) return false;
    if (this.priming) return this.priming;
    if (this.clock.now() < this.primeRetryAt) return false;
    return this.prime();
  }

  private newPlan(): Plan {
    return new Plan(this.limits, new ValidationBudget(this.validationLimits));
  }

  private async run(name: Name, qtype: number, qclass: number, cd: boolean, trace?: CacheTrace): Promise<ResolveResult> {
    const plan = this.newPlan();
    plan.trace = trace;
    let res: ResolveResult;
    try {
      res = await this.resolveChain(name, qtype, qclass, plan, 0, true, cd);
    } catch (e) {
      if (e instanceof LimitError) this.stats.limitHits++;
      res = servfail({ infoCode: EDE_OTHER, text: e instanceof LimitError ? `resolution limit: ${e.message}` : `internal error: ${(e as Error).message}` });
    }
    if (res.rcode === Rcode.SERVFAIL) {
      // Bogus data is never served stale: the failure is the answer.
      if (this.opts.serveStale !== false && res.security !== 'bogus') {
        const stale = this.fromCache(name, qtype, qclass, true);
        if (stale) {
          this.stats.stale++;
          const code = stale.rcode === Rcode.NXDOMAIN ? EDE_STALE_NXDOMAIN : EDE_STALE;
          return { ...stale, ede: { infoCode: code, text: `stale answer: ${res.ede?.text ?? 'upstream failed'}` }, fromCache: false };
        }
      }
      this.stats.servfail++;
    }
    if (this.opts.minimalResponses === false && res.rcode === Rcode.NOERROR && res.answer.length > 0) this.addZoneServers(res, qclass, plan.trace);
    // Every upstream query of this question (validation's DNSKEY/DS fetches too) is charged to the plan.
    res.fromCache = plan.queries === 0;
    return res;
  }

  /** Non-minimal answers: NS RRset of the zone holding the final answer, and its servers' addresses. */
  private addZoneServers(res: ResolveResult, qclass: number, trace?: CacheTrace): void {
    const last = res.answer[res.answer.length - 1]!;
    for (let n = last.name; ; n = n.parent()) {
      const h = this.cache.get(n, RRType.NS, qclass, false, trace);
      if (h && h.entry.kind === 'rrset') {
        if (last.type === RRType.NS && last.name.equals(n)) return;
        res.authority = [...h.rrs, ...h.sigs];
        for (const ns of h.rrs) {
          const target = (ns.data as { target: Name }).target;
          for (const t of [RRType.A, RRType.AAAA]) {
            const a = this.cache.get(target, t, qclass, false, trace);
            if (a && a.entry.kind === 'rrset') res.additional.push(...a.rrs, ...a.sigs);
          }
        }
        return;
      }
      if (n.isRoot) return;
    }
  }

  /**
   * Follows the chain from `name` through the cache and, where it ends, upstream. With
   * validation on (`validate`), each part is validated and the result's `security` is the
   * weakest part's; bogus parts end in SERVFAIL unless the client set CD.
   */
  private async resolveChain(name: Name, qtype: number, qclass: number, plan: Plan, depth: number, validate = true, cd = false): Promise<ResolveResult> {
    const validating = validate && this.validator !== undefined && !this.validator.outOfScope(name);
    const answer: ResourceRecord[] = [];
    let verdict: Verdict = { security: validating ? 'secure' : 'insecure' };
    let sname = name;
    const seen = new Set<string>([sname.key]);
    let links = 0;
    const done = (r: ResolveResult): ResolveResult => {
      if (verdict.security === 'bogus' && !cd) return { ...servfail(verdict.ede ?? { infoCode: 6, text: 'DNSSEC bogus' }), security: 'bogus' };
      return { ...r, security: verdict.security, ad: verdict.security === 'secure', ...(verdict.ede && !r.ede && (verdict.security === 'bogus' || (verdict.security === 'insecure' && INSECURE_EDES.includes(verdict.ede.infoCode))) ? { ede: verdict.ede } : {}) };
    };
    for (;;) {
      const cached = this.lookup(sname, qtype, qclass, false, validate && this.validator !== undefined, plan.trace);
      let next: Name;
      if (cached) {
        if (validating) verdict = worse(verdict, cached.verdict);
        if (verdict.security === 'bogus' && !cd) return done({ rcode: Rcode.SERVFAIL, answer: [], authority: [], additional: [] });
        if (cached.kind === 'cname') {
          answer.push(...cached.rrs, ...cached.sigs);
          next = (cached.rrs[0]!.data as { target: Name }).target;
          links++;
        } else {
          return done({ rcode: cached.kind === 'nxdomain' ? Rcode.NXDOMAIN : Rcode.NOERROR, answer: answer.concat(cached.rrs, cached.sigs), authority: [...cached.soa, ...cached.proof], additional: [] });
        }
      } else {
        // Beyond the cache (synthesis or upstream): not an answer to precompile.
        if (plan.trace) plan.trace.complete = false;
        const synth = validating && this.denials && !this.validator!.outOfScope(sname) ? this.denials.synthesise(sname, qtype, plan.validation) : undefined;
        if (synth) {
          // RFC 8198: the validated NSEC/NSEC3 chain already proves it; nothing goes upstream.
          this.stats.aggressive++;
          return done({ rcode: synth.kind === 'nxdomain' ? Rcode.NXDOMAIN : Rcode.NOERROR, answer, authority: [...synth.soa, ...synth.proof], additional: [] });
        }
        const r = await this.iterator.fetch(sname, qtype, qclass, plan, depth);
        if (r.kind === 'fail') return servfail(r.ede);
        if (validate && this.validator) verdict = worse(verdict, await this.validateFetch(r, qtype, qclass, plan, depth));
        if (verdict.security === 'bogus' && !cd) return done({ rcode: Rcode.SERVFAIL, answer: [], authority: [], additional: [] });
        answer.push(...this.cache.capRecords(r.chain), ...this.cache.capRecords(r.sigs.filter((x) => r.chain.some((c) => c.name.equals(x.name)))));
        if (r.kind === 'answer') {
          return done({ rcode: Rcode.NOERROR, answer: answer.concat(this.cache.capRecords(r.rrs), this.cache.capRecords(r.sigs.filter((x) => r.rrs.some((c) => c.name.equals(x.name) && !r.chain.some((k) => k.name.equals(x.name)))))), authority: this.wildcardProof(r), additional: [] });
        }
        if (r.kind !== 'cname') {
          const soa = this.cache.capNegative(r.soa);
          const ttl = soa[0]?.ttl;
          const proof = r.proof.filter((x) => x.type !== RRType.SOA).map((x) => (ttl === undefined ? x : { ...x, ttl: Math.min(x.ttl, ttl) }));
          return done({ rcode: r.kind === 'nxdomain' ? Rcode.NXDOMAIN : Rcode.NOERROR, answer, authority: [...soa, ...proof], additional: [] });
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

  /** NSEC/NSEC3 proving a wildcard expansion, for DO clients (RFC 4035 §3.1.3.3). */
  private wildcardProof(r: Extract<FetchResult, { kind: 'answer' }>): ResourceRecord[] {
    if (!r.sigs.some((s) => (s.data as { labels?: number }).labels !== undefined && (s.data as { labels: number }).labels < s.name.labelCount - (s.name.labels[0] === '*' ? 1 : 0))) return [];
    return r.proof.filter((x) => x.type === RRType.NSEC || x.type === RRType.NSEC3 || (x.type === RRType.RRSIG && [RRType.NSEC, RRType.NSEC3].includes((x.data as { typeCovered: number }).typeCovered as 47)));
  }

  /** Validates a fetch and records each part's state (and capped TTL) in the cache. */
  private async validateFetch(r: Exclude<FetchResult, { kind: 'fail' }>, qtype: number, qclass: number, plan: Plan, depth: number): Promise<Verdict> {
    const { overall, sets } = await this.validator!.checkFetch(r, qtype, qclass, plan, depth);
    for (const s of sets) this.cache.setSecurity(s.name, s.type, qclass, s.verdict.security, s.verdict.ede, s.verdict.ttl);
    if (this.denials && (r.kind === 'nxdomain' || r.kind === 'nodata')) {
      const denial = sets.find((s) => s.name.equals(r.target) && (s.type === 'NX' || s.type === qtype));
      if (denial?.verdict.security === 'secure') this.rememberDenial(r.proof, r.soa);
    }
    return overall;
  }

  /** Keeps the NSEC/NSEC3 of a secure denial for RFC 8198, under the zone that signed them. */
  private rememberDenial(proof: ResourceRecord[], soa: ResourceRecord[]): void {
    const sig = proof.find((x) => x.type === RRType.RRSIG && !(x.data instanceof Uint8Array)
      && [RRType.NSEC, RRType.NSEC3].includes((x.data as { typeCovered: number }).typeCovered as 47));
    if (!sig) return;
    const zone = (sig.data as { signerName: Name }).signerName;
    const soaSet = [...soa, ...proof].filter((x) => x.name.equals(zone) && (x.type === RRType.SOA
      || (x.type === RRType.RRSIG && (x.data as { typeCovered?: number }).typeCovered === RRType.SOA)));
    const seen = new Set<ResourceRecord>();
    this.denials!.add(zone, soaSet.filter((x) => (seen.has(x) ? false : (seen.add(x), true))), proof, this.cache.config.maxNegativeTtl);
  }

  /** A DS (or other) question answered with validation, for the validator's chain of trust. */
  private async resolveValidated(name: Name, qtype: number, qclass: number, plan: Plan, depth: number): Promise<ValidatedAnswer> {
    const r = await this.resolveChain(name, qtype, qclass, plan, depth, true, true);
    return { rcode: r.rcode, answer: r.answer, authority: r.authority, security: r.security ?? 'indeterminate', ede: r.ede };
  }

  /** Records and RRSIGs of (name, type) from the cache or upstream, not validated (DNSKEY for the validator). */
  private async fetchRaw(name: Name, qtype: number, qclass: number, plan: Plan, depth: number): Promise<{ rrs: ResourceRecord[]; sigs: ResourceRecord[] } | { fail: Ede }> {
    const h = this.cache.get(name, qtype, qclass);
    if (h && h.entry.kind === 'rrset') return { rrs: h.rrs, sigs: h.sigs };
    const r = await this.iterator.fetch(name, qtype, qclass, plan, depth);
    if (r.kind === 'fail') return { fail: r.ede };
    if (r.kind !== 'answer') return { fail: { infoCode: 9, text: `${name} has no records of type ${qtype} (${r.kind})` } };
    return { rrs: r.rrs, sigs: r.sigs };
  }

  private lookup(name: Name, qtype: number, qclass: number, stale: boolean, validated = false, trace?: CacheTrace):
    | { kind: 'answer' | 'cname' | 'nodata' | 'nxdomain'; rrs: ResourceRecord[]; soa: ResourceRecord[]; sigs: ResourceRecord[]; proof: ResourceRecord[]; verdict: Verdict }
    | undefined {
    // With validation on, data not yet validated does not count as a hit (it is fetched again).
    // Addresses from additional sections (glue) steer iteration but never answer a question (RFC 2181 §5.4.1).
    const usable = (h: CacheHit | undefined): h is CacheHit => h !== undefined && (!validated || h.entry.security !== undefined)
      && !(stale && h.entry.security === 'bogus') && !(h.entry.kind === 'rrset' && h.entry.rank <= Rank.ADDITIONAL);
    const verdictOf = (h: CacheHit): Verdict => ({ security: h.entry.security ?? 'insecure', ede: h.entry.ede });
    const nx = this.cache.getNxdomain(name, qclass, stale, trace);
    if (usable(nx)) return { kind: 'nxdomain', rrs: [], soa: nx.soa, sigs: [], proof: nx.proof, verdict: verdictOf(nx) };
    if (this.opts.nxdomainCut !== false && !stale) {
      // RFC 8020: nothing exists below a name that does not exist.
      for (let a = name; !a.isRoot; ) {
        a = a.parent();
        const up = this.cache.getNxdomain(a, qclass, false, trace, true);
        if (usable(up) && up.entry.security !== 'bogus') {
          this.stats.nxdomainCut++;
          return { kind: 'nxdomain', rrs: [], soa: up.soa, sigs: [], proof: up.proof, verdict: verdictOf(up) };
        }
      }
    }
    const h = this.cache.get(name, qtype, qclass, stale, trace);
    if (usable(h)) {
      if (!stale) this.maybePrefetch(h, name, qtype, qclass);
      return h.entry.kind === 'nodata'
        ? { kind: 'nodata', rrs: [], soa: h.soa, sigs: [], proof: h.proof, verdict: verdictOf(h) }
        : { kind: 'answer', rrs: h.rrs, soa: [], sigs: h.sigs, proof: h.proof, verdict: verdictOf(h) };
    }
    if (qtype !== RRType.CNAME) {
      const c = this.cache.get(name, RRType.CNAME, qclass, stale, trace);
      if (usable(c) && c.entry.kind === 'rrset') return { kind: 'cname', rrs: c.rrs.slice(0, 1), soa: [], sigs: c.sigs, proof: [], verdict: verdictOf(c) };
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
      answer.push(...c.rrs, ...c.sigs);
      if (c.kind !== 'cname') {
        return { rcode: c.kind === 'nxdomain' ? Rcode.NXDOMAIN : Rcode.NOERROR, answer, authority: [...c.soa, ...c.proof], additional: [] };
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
    const plan = this.newPlan();
    plan.refresh = true;
    this.iterator.fetch(name, qtype, qclass, plan, 0)
      .then((r) => (r.kind !== 'fail' && this.validator ? this.validateFetch(r, qtype, qclass, plan, 0) : undefined))
      .catch(() => undefined);
  }

  /** Addresses of a name server name (A, then AAAA), as a sub-resolution of the same plan. */
  private async resolveAddresses(name: Name, plan: Plan, depth: number): Promise<string[]> {
    const out: string[] = [];
    for (const t of this.opts.ipv6 === false ? [RRType.A] : [RRType.A, RRType.AAAA]) {
      const key = `${name.key}/${t}`;
      if (plan.active.has(key)) continue; // a cycle: this lookup is already under way further up
      plan.active.add(key);
      try {
        const r = await this.resolveChain(name, t, RRClass.IN, plan, depth, false);
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

/** EDEs that explain an insecure answer to the client (unsupported algorithm, digest, NSEC3 iterations). */
const INSECURE_EDES: readonly number[] = [1, 2, 27];

const DNSSEC_TYPES: readonly number[] = [RRType.RRSIG, RRType.NSEC, RRType.NSEC3];

/** RFC 4035 §3.2.1: without DO, no RRSIG/NSEC/NSEC3 unless the question asked for that type. */
function withoutDnssec(r: ResolveResult, qtype: number): ResolveResult {
  const keep = (x: ResourceRecord) => !DNSSEC_TYPES.includes(x.type) || x.type === qtype;
  return { ...r, answer: r.answer.filter(keep), authority: r.authority.filter((x) => !DNSSEC_TYPES.includes(x.type)), additional: r.additional.filter((x) => !DNSSEC_TYPES.includes(x.type)) };
}

function copyResult(r: ResolveResult): ResolveResult {
  return { ...r, answer: [...r.answer], authority: [...r.authority], additional: [...r.additional] };
}
