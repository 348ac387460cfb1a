import { makeMessage, Name, Rcode, RRClass, RRType, type Message, type ResourceRecord } from '../wire/index.js';
import { Rank, sameRecords, type Cache, type CacheTrace } from './cache.js';
import { ValidationBudget, defaultValidationLimits } from '../dnssec/validate.js';
import type { NameServer, RootHints } from './root-hints.js';
import type { ServerSelector } from './servers.js';
import { matchQuestion } from './upstream.js';
import { UpstreamError, type Clock, type Limits, type ServerAddress, type Upstream } from './types.js';

/** Thrown when a client query used up one of its budgets (Limits). */
export class LimitError extends Error {
  constructor(readonly limit: keyof Limits, message: string) {
    super(message);
    this.name = 'LimitError';
  }
}

/** The work budget and loop guard of one client query. */
export class Plan {
  queries = 0;
  nsNames = 0;
  /** A prefetch: what it fetches replaces equal cached data (a fresh TTL), as a refresh should. */
  refresh = false;
  /** Sub-resolutions in progress (name/type keys), to break cycles between NS lookups. */
  readonly active = new Set<string>();
  /** DNSSEC work (signature checks, NSEC3 hashes) for this question. */
  readonly validation: ValidationBudget;
  /** What the client's question read from the cache, when its answer may be precompiled. */
  trace?: CacheTrace;
  constructor(readonly limits: Limits, validation?: ValidationBudget) {
    this.validation = validation ?? new ValidationBudget(defaultValidationLimits);
  }

  chargeQuery(): void {
    if (++this.queries > this.limits.maxQueries) throw new LimitError('maxQueries', `more than ${this.limits.maxQueries} upstream queries for one question`);
  }

  chargeNsName(): void {
    if (++this.nsNames > this.limits.maxNsNames) throw new LimitError('maxNsNames', `more than ${this.limits.maxNsNames} name server names looked up for one question`);
  }
}

export interface Ede {
  infoCode: number;
  text: string;
}

/**
 * DNSSEC material that came with an answer: the RRSIGs of the answer section for the records
 * kept, the in-bailiwick authority records (SOA, NSEC, NSEC3 and their RRSIGs) that prove a
 * denial or a wildcard expansion, and the zone whose servers answered.
 */
export interface FetchEvidence {
  sigs: ResourceRecord[];
  proof: ResourceRecord[];
  zone: Name;
  /** The answer came from a forwarder (its zone cut is unknown). */
  forwarded: boolean;
}

/** What one fetch (a question asked of the servers of its zone, following referrals) found. */
export type FetchResult =
  | ({ kind: 'answer'; chain: ResourceRecord[]; rrs: ResourceRecord[] } & FetchEvidence)
  | ({ kind: 'cname'; chain: ResourceRecord[]; target: Name } & FetchEvidence)
  | ({ kind: 'nxdomain' | 'nodata'; chain: ResourceRecord[]; soa: ResourceRecord[]; target: Name } & FetchEvidence)
  | { kind: 'fail'; ede: Ede };

/** A configured forward or stub zone. */
export interface ForwardZone {
  readonly zone: Name;
  readonly servers: ServerAddress[];
  /** forward: send RD=1 to a recursive server; stub: iterate from these authoritative servers. */
  readonly kind: 'forward' | 'stub';
}

/** A zone cut: the zone whose servers are asked, and those servers. */
interface Cut {
  zone: Name;
  servers: NameServer[];
  rd: boolean;
  forward: boolean;
  ports: Map<string, number>;
  /** Cut came from cached NS: when none of its servers can be reached, try the parent. */
  fromCache: boolean;
  /** The root hints as configured (not a primed root NS set). */
  hints?: boolean;
}

export interface IteratorConfig {
  qnameMinimisation: boolean;
  /** Type of minimised queries: A (Unbound's choice, fewer broken answers) or NS (RFC 7816). */
  minimisedType: number;
  caseRandomisation: boolean;
  queryPort: number;
  ipv6: boolean;
  ednsUdpSize: number;
  /** Ask for DNSSEC records (DO=1; CD=1 towards forwarders, we validate ourselves). */
  dnssec: boolean;
}

/** Hooks back into the resolver (sub-resolutions go through its cache and chain logic). */
export interface IteratorHost {
  resolveAddresses(name: Name, plan: Plan, depth: number): Promise<string[]>;
  /** RFC 8109: prime the root NS set when iteration would start from the bare hints; true when it is now cached. */
  primeRoot?(): Promise<boolean>;
}

const EDE_NO_REACHABLE = 22;
const EDE_NETWORK = 23;
const EDE_OTHER = 0;
const EDE_INVALID = 24;

type Classified =
  | { kind: 'answer'; chain: ResourceRecord[]; rrs: ResourceRecord[] }
  | { kind: 'cname'; chain: ResourceRecord[]; target: Name }
  | { kind: 'nxdomain' | 'nodata'; chain: ResourceRecord[]; soa: ResourceRecord[]; target: Name }
  | { kind: 'referral'; zone: Name; ns: ResourceRecord[]; glue: ResourceRecord[]; ds: ResourceRecord[]; dsSigs: ResourceRecord[] }
  | { kind: 'lame'; why: string };

/**
 * Iterative resolution of one question (RFC 1034 §5.3.3) from the closest known zone cut:
 * referrals, glue from the delegating zone's bailiwick only, glueless NS names resolved
 * through the host, CNAME/DNAME in answers, lame and broken servers skipped, QNAME
 * minimisation (RFC 9156, relaxed), TCP on TC, EDNS fallback and 0x20.
 */
export class Iterator {
  constructor(
    private readonly cache: Cache,
    private readonly selector: ServerSelector,
    private readonly upstream: Upstream,
    private readonly clock: Clock,
    private readonly rootHints: RootHints,
    private readonly forwards: readonly ForwardZone[],
    private readonly config: IteratorConfig,
    private readonly random: () => number,
    private readonly host: IteratorHost,
  ) {}

  async fetch(name: Name, qtype: number, qclass: number, plan: Plan, depth: number): Promise<FetchResult> {
    // DS lives on the parent side of a cut (RFC 4035 §3.1.4.1).
    const start = qtype === RRType.DS && !name.isRoot ? name.parent() : name;
    let cut = this.findCut(start, qclass, undefined);
    if (cut.hints && this.host.primeRoot && await this.host.primeRoot()) cut = this.findCut(start, qclass, undefined);
    let minimise = this.config.qnameMinimisation && !cut.forward;
    let labels = Math.min(cut.zone.labelCount + 1, name.labelCount);
    let lastFail: Ede = { infoCode: EDE_NO_REACHABLE, text: 'no reachable authority' };
    let tried = new Set<string>();
    let resolvedNames = new Set<string>();
    for (let referrals = 0; ; ) {
      const minimised = minimise && labels < name.labelCount && qtype !== RRType.DS;
      const qname = minimised ? name.suffix(labels) : name;
      const asked = minimised ? this.config.minimisedType : qtype;
      const got = await this.askCut(cut, qname, asked, qclass, plan, depth, tried, resolvedNames);
      if ('fail' in got && minimised) {
        // Relaxed mode: servers that fail minimised queries get the full name.
        minimise = false;
        tried = new Set();
        continue;
      }
      if ('fail' in got) {
        if (cut.fromCache && !cut.zone.isRoot) {
          // Every cached server of this zone failed: start again from the parent's servers.
          cut = this.findCut(cut.zone.parent(), qclass, undefined);
          tried = new Set();
          resolvedNames = new Set();
          labels = Math.min(cut.zone.labelCount + 1, name.labelCount);
          continue;
        }
        return { kind: 'fail', ede: got.fail ?? lastFail };
      }
      const { msg, addr } = got;
      const c = this.classify(msg, qname, asked, qclass, cut);
      if (c.kind === 'lame') {
        this.selector.markLame(addr, cut.zone.key);
        lastFail = { infoCode: EDE_NO_REACHABLE, text: `all servers of ${cut.zone} failed (last: ${addr} ${c.why})` };
        continue;
      }
      if (c.kind === 'referral') {
        if (++referrals > plan.limits.maxReferrals) throw new LimitError('maxReferrals', `more than ${plan.limits.maxReferrals} referrals`);
        this.cacheReferral(c, plan.refresh);
        cut = this.cutFromReferral(c, cut);
        tried = new Set();
        resolvedNames = new Set();
        labels = Math.min(cut.zone.labelCount + 1, name.labelCount);
        continue;
      }
      if (minimised) {
        // The minimised name exists (or is an empty non-terminal) and is not a cut: one more label.
        if (c.kind === 'nodata' || (c.kind === 'answer' && c.chain.length === 0)) {
          labels++;
          tried = new Set();
          continue;
        }
        // Relaxed mode (RFC 9156 §2.3): NXDOMAIN or a CNAME for a minimised name may be a broken
        // server, so ask the full name instead of trusting it.
        minimise = false;
        tried = new Set();
        continue;
      }
      const evidence = this.evidence(c, msg, qclass, cut);
      this.cacheAnswer(c, msg, qclass, evidence, cut, plan.refresh);
      if (c.kind === 'answer') return { kind: 'answer', chain: c.chain, rrs: c.rrs, ...evidence };
      if (c.kind === 'cname') return { kind: 'cname', chain: c.chain, target: c.target, ...evidence };
      if (c.kind === 'nxdomain' || c.kind === 'nodata') {
        // A CNAME chain that ended in another zone's NXDOMAIN/NODATA inside this response.
        return { kind: c.kind, chain: c.chain, soa: c.soa, target: c.target, ...evidence };
      }
    }
  }

  /**
   * RFC 8109 priming: asks the root hint servers for the root NS RRset and caches it (rank:
   * authoritative answer) with the addresses of those names from the additional section.
   * Returns false when no hint server gave a usable answer (the hints stay in use).
   */
  async prime(qclass: number, plan: Plan): Promise<boolean> {
    const cut: Cut = {
      zone: Name.root,
      servers: this.rootHints.servers.map((s) => ({ name: s.name, addresses: [...s.addresses] })),
      rd: false, forward: false, ports: new Map(), fromCache: false,
    };
    const tried = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const got = await this.askCut(cut, Name.root, RRType.NS, qclass, plan, 0, tried, new Set());
      if ('fail' in got) return false;
      const ns = got.msg.answer.filter((r) => r.type === RRType.NS && r.class === qclass && r.name.isRoot);
      // No NS set in the answer: try another hint (not marked lame: it may still answer other questions).
      if (ns.length === 0 || got.msg.rcode !== Rcode.NOERROR) continue;
      const sigs = got.msg.answer.filter((r) => r.type === RRType.RRSIG && r.name.isRoot && (r.data as { typeCovered?: number }).typeCovered === RRType.NS);
      this.cache.putRRset(ns, got.msg.aa ? Rank.ANSWER_AA : Rank.ANSWER, { sigs });
      const targets = ns.map((r) => (r.data as { target: Name }).target);
      const addrs = got.msg.additional.filter((r) => (r.type === RRType.A || (this.config.ipv6 && r.type === RRType.AAAA))
        && r.class === qclass && targets.some((t) => t.equals(r.name)));
      for (const set of groupRRsets(addrs)) this.cache.putRRset(set, Rank.ADDITIONAL);
      return true;
    }
    return false;
  }

  /** Closest known zone cut for `name`: forward/stub config, cached NS, root hints. */
  private findCut(name: Name, qclass: number, _skip: undefined): Cut {
    let fwd: ForwardZone | undefined;
    for (const f of this.forwards) if (name.isSubdomainOf(f.zone) && (!fwd || f.zone.labelCount > fwd.zone.labelCount)) fwd = f;
    if (fwd?.kind === 'forward') return this.cutFromForward(fwd);
    for (let n = name; ; n = n.parent()) {
      // A configured stub wins over NS sets cached for its own apex (they may name servers the
      // stub configuration is there to avoid); cuts cached below it are still used.
      if (fwd && n.labelCount <= fwd.zone.labelCount) return this.cutFromForward(fwd);
      const h = this.cache.get(n, RRType.NS, qclass);
      if (h && h.entry.kind === 'rrset') {
        const servers = h.rrs.map((r) => ({ name: (r.data as { target: Name }).target, addresses: this.cachedAddresses((r.data as { target: Name }).target, qclass) }));
        const usable = servers.some((s) => s.addresses.length > 0 || !s.name.isSubdomainOf(n));
        if (usable) return { zone: n, servers, rd: false, forward: false, ports: new Map(), fromCache: !n.isRoot };
      }
      if (n.isRoot) break;
    }
    return {
      zone: Name.root,
      servers: this.rootHints.servers.map((s) => ({ name: s.name, addresses: [...s.addresses] })),
      rd: false, forward: false, ports: new Map(), fromCache: false, hints: true,
    };
  }

  private cutFromForward(f: ForwardZone): Cut {
    const ports = new Map<string, number>();
    for (const s of f.servers) ports.set(s.address, s.port);
    return {
      zone: f.zone,
      servers: f.servers.map((s) => ({ addresses: [s.address] })),
      rd: f.kind === 'forward', forward: f.kind === 'forward', ports, fromCache: false,
    };
  }

  private cachedAddresses(name: Name, qclass: number): string[] {
    const out: string[] = [];
    for (const t of this.config.ipv6 ? [RRType.A, RRType.AAAA] : [RRType.A]) {
      const h = this.cache.get(name, t, qclass);
      if (h && h.entry.kind === 'rrset') for (const r of h.rrs) out.push((r.data as { address: string }).address);
    }
    return out;
  }

  private cutFromReferral(c: Extract<Classified, { kind: 'referral' }>, parent: Cut): Cut {
    const servers: NameServer[] = [];
    for (const ns of c.ns) {
      const target = (ns.data as { target: Name }).target;
      if (servers.some((s) => s.name?.equals(target))) continue;
      const glue = c.glue
        .filter((g) => g.name.equals(target) && (g.type === RRType.A || (this.config.ipv6 && g.type === RRType.AAAA)))
        .map((g) => (g.data as { address: string }).address);
      const addrs = glue.length > 0 ? glue : this.cachedAddresses(target, ns.class);
      servers.push({ name: target, addresses: [...new Set(addrs)] });
    }
    return { zone: c.zone, servers, rd: false, forward: false, ports: parent.forward ? new Map() : parent.ports, fromCache: false };
  }

  /**
   * Picks a server of the cut not yet tried and sends the question; resolves addresses of
   * glueless NS names when no known address is left. Returns the response or why all failed.
   */
  private async askCut(
    cut: Cut, qname: Name, qtype: number, qclass: number, plan: Plan, depth: number,
    tried: Set<string>, resolvedNames: Set<string>,
  ): Promise<{ msg: Message; addr: string } | { fail: Ede | undefined }> {
    let lastFail: Ede | undefined;
    for (;;) {
      const addrs = [...new Set(cut.servers.flatMap((s) => s.addresses))]
        .filter((a) => !tried.has(a) && (this.config.ipv6 || !a.includes(':')));
      const addr = this.selector.pick(addrs, cut.zone.key);
      if (addr === undefined) {
        const pending = cut.servers.find((s) => s.name && s.addresses.length === 0 && !resolvedNames.has(s.name.key)
          // Without glue, a name inside the zone can only be found by asking the zone itself.
          && !s.name.isSubdomainOf(cut.zone));
        if (!pending || depth >= plan.limits.maxDepth) return { fail: lastFail };
        resolvedNames.add(pending.name!.key);
        plan.chargeNsName();
        const found = await this.host.resolveAddresses(pending.name!, plan, depth + 1);
        pending.addresses.push(...found);
        continue;
      }
      tried.add(addr);
      try {
        const msg = await this.exchange({ address: addr, port: cut.ports.get(addr) ?? this.config.queryPort }, qname, qtype, qclass, cut.rd, plan, cut.zone);
        if (msg.rcode !== Rcode.NOERROR && msg.rcode !== Rcode.NXDOMAIN) {
          this.selector.markLame(addr, cut.zone.key);
          lastFail = { infoCode: EDE_NO_REACHABLE, text: `${addr} answered ${msg.rcode === Rcode.SERVFAIL ? 'SERVFAIL' : msg.rcode === Rcode.REFUSED ? 'REFUSED' : 'rcode ' + msg.rcode} for ${cut.zone}` };
          continue;
        }
        return { msg, addr };
      } catch (e) {
        if (e instanceof LimitError) throw e;
        const kind = e instanceof UpstreamError ? e.kind : 'network';
        lastFail = kind === 'timeout'
          ? { infoCode: EDE_NO_REACHABLE, text: `no answer from the servers of ${cut.zone}` }
          : kind === 'malformed' ? { infoCode: EDE_INVALID, text: `bad answer from ${addr}: ${(e as Error).message}` }
            : { infoCode: EDE_NETWORK, text: `${addr}: ${(e as Error).message}` };
      }
    }
  }

  /** One question to one server: UDP, then TCP if truncated; EDNS and 0x20 fallbacks. */
  private async exchange(server: ServerAddress, qname: Name, qtype: number, qclass: number, rd: boolean, plan: Plan, zone?: Name): Promise<Message> {
    let useEdns = !this.selector.noEdns(server.address);
    let use0x20 = this.config.caseRandomisation;
    let droppedEdns = false;
    for (let attempt = 0; attempt < 4; attempt++) {
      plan.chargeQuery();
      const sentName = use0x20 ? randomCase(qname, this.random) : qname;
      const query = makeMessage({
        rd,
        cd: rd && this.config.dnssec,
        question: [{ name: sentName, type: qtype, class: qclass }],
        edns: useEdns ? { udpSize: this.config.ednsUdpSize, version: 0, do: this.config.dnssec, z: 0, options: [] } : undefined,
      });
      const t0 = this.clock.now();
      let resp: Message;
      try {
        resp = await this.upstream.query(server, query, { tcp: false, timeout: this.selector.timeoutFor(server.address), zone });
      } catch (e) {
        if (e instanceof UpstreamError && e.kind === 'case-mismatch' && use0x20) {
          use0x20 = false;
          continue;
        }
        if (e instanceof UpstreamError && e.kind === 'timeout') {
          this.selector.recordTimeout(server.address);
          if (useEdns && !this.selector.ednsOk(server.address)) {
            // Some servers and middleboxes silently drop queries with OPT (RFC 6891 §6.2.2):
            // a server never seen answering EDNS gets one more try without it.
            useEdns = false;
            droppedEdns = true;
            continue;
          }
        }
        throw e;
      }
      const m = matchQuestion(query, resp);
      if (m === 'none') throw new UpstreamError('malformed', 'answer for another question');
      if (m === 'case' && use0x20) {
        // The server does not preserve case: ask again without 0x20 (its protection is lost for it).
        use0x20 = false;
        continue;
      }
      this.selector.recordRtt(server.address, Math.max(0, this.clock.now() - t0));
      if (useEdns) this.selector.setEdnsOk(server.address);
      // Answered without OPT after a query with OPT went unanswered: remember to leave it out.
      else if (droppedEdns) this.selector.setNoEdns(server.address);
      if (resp.tc) {
        plan.chargeQuery();
        resp = await this.upstream.query(server, query, { tcp: true, timeout: this.selector.timeoutFor(server.address) * 2, zone });
        if (matchQuestion(query, resp) === 'none') throw new UpstreamError('malformed', 'TCP answer for another question');
      }
      if (useEdns && !resp.edns && (resp.rcode === Rcode.FORMERR || resp.rcode === Rcode.NOTIMP || resp.rcode === Rcode.SERVFAIL)) {
        // RFC 6891 §7: a server that rejects OPT gets the query again without it.
        this.selector.setNoEdns(server.address);
        useEdns = false;
        continue;
      }
      return resp;
    }
    throw new UpstreamError('malformed', 'no usable answer after fallbacks');
  }

  /** Sorts a response into answer / CNAME / negative / referral / lame, trusting only in-bailiwick data. */
  private classify(msg: Message, qname: Name, qtype: number, qclass: number, cut: Cut): Classified {
    const zone = cut.forward ? Name.root : cut.zone;
    const chain: ResourceRecord[] = [];
    let sname = qname;
    const seen = new Set<string>([sname.key]);
    for (;;) {
      if (!sname.isSubdomainOf(zone)) break;
      const owned = msg.answer.filter((r) => r.class === qclass && r.name.equals(sname));
      const match = owned.filter((r) => r.type === qtype || (qtype === RRType.ANY && r.type !== RRType.RRSIG));
      if (match.length > 0) return { kind: 'answer', chain, rrs: match };
      // A DNAME above the name wins over the CNAME synthesised from it (RFC 6672 §3.4): the
      // DNAME is what gets cached, and it belongs in the answer.
      const dname = qtype === RRType.DNAME ? undefined : msg.answer.find((r) => r.type === RRType.DNAME && r.class === qclass
        && sname.isSubdomainOf(r.name) && !sname.equals(r.name) && r.name.isSubdomainOf(zone));
      const cname = owned.find((r) => r.type === RRType.CNAME);
      if (dname) {
        let target: Name;
        try {
          target = sname.replaceSuffix(dname.name, (dname.data as { target: Name }).target);
        } catch {
          return { kind: 'lame', why: 'DNAME substitution overflows' };
        }
        chain.push(dname, { name: sname, type: RRType.CNAME, class: qclass, ttl: dname.ttl, data: { target } });
        sname = target;
      } else if (cname && qtype !== RRType.CNAME) {
        chain.push(cname);
        sname = (cname.data as { target: Name }).target;
      } else break;
      if (seen.has(sname.key)) return { kind: 'lame', why: 'CNAME loop in answer' };
      seen.add(sname.key);
    }
    const soa = msg.authority.filter((r) => r.type === RRType.SOA && r.class === qclass && sname.isSubdomainOf(r.name) && r.name.isSubdomainOf(zone));
    if (msg.rcode === Rcode.NXDOMAIN) {
      if (chain.length > 0 && !sname.isSubdomainOf(zone)) return { kind: 'cname', chain, target: sname };
      return { kind: 'nxdomain', chain, soa, target: sname };
    }
    if (soa.length > 0) return { kind: 'nodata', chain, soa, target: sname };
    // A NODATA proven by NSEC/NSEC3 alone (no SOA): a validator can still check it.
    if (this.config.dnssec && chain.length === 0 && !msg.authority.some((r) => r.type === RRType.NS)
      && msg.authority.some((r) => (r.type === RRType.NSEC || r.type === RRType.NSEC3) && r.name.isSubdomainOf(zone))) {
      return { kind: 'nodata', chain, soa: [], target: sname };
    }
    const ns = msg.authority.filter((r) => r.type === RRType.NS && r.class === qclass);
    const child = ns.find((r) => sname.isSubdomainOf(r.name) && r.name.isSubdomainOf(cut.zone) && !r.name.equals(cut.zone));
    if (chain.length > 0) return { kind: 'cname', chain, target: sname };
    if (child && !cut.forward) {
      const nsSet = ns.filter((r) => r.name.equals(child.name));
      const targets = nsSet.map((r) => (r.data as { target: Name }).target);
      // Glue only from the delegating zone's bailiwick (never an address for a name elsewhere).
      const glue = msg.additional.filter((r) => (r.type === RRType.A || r.type === RRType.AAAA) && r.class === qclass
        && r.name.isSubdomainOf(cut.zone) && targets.some((t) => t.equals(r.name)));
      const ds = msg.authority.filter((r) => r.type === RRType.DS && r.class === qclass && r.name.equals(child.name));
      const dsSigs = msg.authority.filter((r) => r.type === RRType.RRSIG && r.name.equals(child.name) && (r.data as { typeCovered?: number }).typeCovered === RRType.DS);
      return { kind: 'referral', zone: child.name, ns: nsSet, glue, ds, dsSigs };
    }
    if (msg.aa || cut.forward) return { kind: 'nodata', chain, soa: [], target: sname };
    return { kind: 'lame', why: ns.length > 0 ? 'referral that does not lead down' : 'empty non-authoritative answer' };
  }

  private cacheReferral(c: Extract<Classified, { kind: 'referral' }>, refresh: boolean): void {
    this.cache.putRRset(c.ns, Rank.AUTHORITY, { refresh });
    for (const set of groupRRsets(c.glue)) this.cache.putRRset(set, Rank.ADDITIONAL, { refresh });
    // DS (signed by the parent) rides along with secure referrals; cached unvalidated, the
    // validator checks it before use (RFC 4035 §5.2).
    if (c.ds.length > 0) this.cache.putRRset(c.ds, Rank.AUTHORITY, { sigs: c.dsSigs, refresh });
  }

  /** The DNSSEC records of a response that belong with what was kept from it. */
  private evidence(c: Classified, msg: Message, qclass: number, cut: Cut): FetchEvidence {
    const zone = cut.forward ? Name.root : cut.zone;
    const ev: FetchEvidence = { sigs: [], proof: [], zone: cut.zone, forwarded: cut.forward };
    if (!this.config.dnssec || c.kind === 'lame' || c.kind === 'referral') return ev;
    const owners = new Set<string>();
    for (const r of c.chain) owners.add(r.name.key);
    if (c.kind === 'answer') for (const r of c.rrs) owners.add(r.name.key);
    // RRSIGs belong in the answer section, but some servers misplace them: take them from anywhere.
    ev.sigs = [...msg.answer, ...msg.additional].filter((r) => r.type === RRType.RRSIG && r.class === qclass && owners.has(r.name.key));
    ev.proof = msg.authority.filter((r) => r.class === qclass && r.name.isSubdomainOf(zone)
      && (r.type === RRType.SOA || r.type === RRType.NSEC || r.type === RRType.NSEC3 || r.type === RRType.RRSIG));
    return ev;
  }

  private cacheAnswerAuthority(c: Extract<Classified, { kind: 'answer' | 'cname' }>, msg: Message, qclass: number, cut: Cut, refresh: boolean): void {
    const found = authorityNs(c, msg, qclass, cut.forward ? Name.root : cut.zone);
    if (!found) return;
    if (!msg.aa && !cut.forward) {
      // A non-authoritative answer may confirm the NS set we hold (adding its RRSIGs) or fill a
      // gap, never replace a different set: that could redirect the zone (spoofed or lame
      // answer). Forwarders never set AA.
      const held = this.cache.get(found.ns[0]!.name, RRType.NS, qclass);
      if (held && held.entry.kind === 'rrset' && !sameRecords(held.rrs, found.ns)) return;
    }
    this.cache.putRRset(found.ns, msg.aa ? Rank.AUTHORITY_AA : Rank.AUTHORITY, { sigs: found.sigs, refresh });
    for (const set of groupRRsets(found.addrs)) {
      const first = set[0]!;
      const sigs = found.addrSigs.filter((x) => x.name.equals(first.name) && (x.data as { typeCovered?: number }).typeCovered === first.type);
      this.cache.putRRset(set, Rank.ADDITIONAL, { sigs, refresh });
    }
  }

  private cacheAnswer(c: Classified, msg: Message, qclass: number, ev: FetchEvidence, cut: Cut, refresh: boolean): void {
    const rank = msg.aa ? Rank.ANSWER_AA : Rank.ANSWER;
    if (c.kind === 'answer' || c.kind === 'cname') this.cacheAnswerAuthority(c, msg, qclass, cut, refresh);
    if (c.kind === 'answer' || c.kind === 'cname' || c.kind === 'nxdomain' || c.kind === 'nodata') {
      const recs = c.kind === 'answer' ? [...c.chain, ...c.rrs] : c.chain;
      for (const set of groupRRsets(recs)) {
        const first = set[0]!;
        const sigs = ev.sigs.filter((s) => s.name.equals(first.name) && (s.data as { typeCovered?: number }).typeCovered === first.type);
        this.cache.putRRset(set, rank, { sigs, refresh });
      }
    }
    if (c.kind === 'nxdomain') this.cache.putNegative('nxdomain', c.target, 0, qclass, c.soa, msg.aa ? Rank.AUTHORITY_AA : Rank.AUTHORITY, ev.proof);
    if (c.kind === 'nodata') {
      const q = msg.question[0]!;
      this.cache.putNegative('nodata', c.target, q.type, qclass, c.soa, msg.aa ? Rank.AUTHORITY_AA : Rank.AUTHORITY, ev.proof);
    }
  }
}

/**
 * The NS RRset that a positive answer carries in its authority section (the zone's own,
 * authoritative copy when AA is set, RFC 2181 §5.4.1) and the addresses of those servers in
 * the additional section, cached when they are in the bailiwick of the servers asked: the
 * owner is an ancestor of the answer's name at or below the zone cut. Later answers for the
 * zone can then carry them (non-minimal responses) and iteration uses the fresher set.
 */
function authorityNs(c: Extract<Classified, { kind: 'answer' | 'cname' }>, msg: Message, qclass: number, zone: Name): { ns: ResourceRecord[]; sigs: ResourceRecord[]; addrs: ResourceRecord[]; addrSigs: ResourceRecord[] } | undefined {
  const last = c.kind === 'answer' ? c.rrs[0]!.name : c.chain[c.chain.length - 1]!.name;
  const ns = msg.authority.filter((r) => r.type === RRType.NS && r.class === qclass && r.name.isSubdomainOf(zone) && last.isSubdomainOf(r.name));
  if (ns.length === 0) return undefined;
  const owner = ns[0]!.name;
  const set = ns.filter((r) => r.name.equals(owner));
  const sigs = msg.authority.filter((r) => r.type === RRType.RRSIG && r.name.equals(owner) && (r.data as { typeCovered?: number }).typeCovered === RRType.NS);
  const targets = set.map((r) => (r.data as { target: Name }).target);
  const addrs = msg.additional.filter((r) => (r.type === RRType.A || r.type === RRType.AAAA) && r.class === qclass
    && r.name.isSubdomainOf(zone) && targets.some((t) => t.equals(r.name)));
  // RRSIGs are taken from any section: some servers misplace them.
  const addrSigs = [...msg.answer, ...msg.authority, ...msg.additional].filter((r) => r.type === RRType.RRSIG && targets.some((t) => t.equals(r.name)) && r.name.isSubdomainOf(zone));
  return { ns: set, sigs, addrs, addrSigs };
}

/** Groups records into RRsets (same owner, type, class), keeping first-seen order. */
export function groupRRsets(rrs: readonly ResourceRecord[]): ResourceRecord[][] {
  const sets = new Map<string, ResourceRecord[]>();
  for (const r of rrs) {
    const k = `${r.name.key}/${r.type}/${r.class}`;
    let s = sets.get(k);
    if (!s) sets.set(k, (s = []));
    s.push(r);
  }
  return [...sets.values()];
}

/** 0x20: flips the case of each letter at random (draft-vixie-dnsext-dns0x20). */
export function randomCase(name: Name, random: () => number): Name {
  const labels = name.labels.map((l) => {
    let out = '';
    for (let i = 0; i < l.length; i++) {
      const c = l.charCodeAt(i);
      const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
      out += letter && random() < 0.5 ? String.fromCharCode(c ^ 0x20) : l[i];
    }
    return out;
  });
  return Name.fromLabels(labels);
}

export { RRClass };
