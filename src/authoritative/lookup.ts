import { Name, Rcode, RRType, type ResourceRecord } from '../wire/index.js';
import { NodeFlag, type RRset, type Zone, type ZoneNode } from '../zone/zone.js';
import { denialProof, hasDenialChain, type DenialKind } from '../dnssec/denial.js';
import type { ZoneSet } from './zone-set.js';

/**
 * How an answer ended (the last step of a CNAME/DNAME chain decides):
 * - `answer`: the data asked for; `nodata`: the name exists, not with that type;
 * - `nxdomain`: the name does not exist; `referral`: the name is below a cut (NS in authority);
 * - `cname`: a chain we stop following (target outside our zones, a loop, or too long);
 * - `yxdomain`: DNAME substitution made a name longer than 255 octets (RFC 6672 §2.2);
 * - `notauth`: the name is not in the zone given (REFUSED).
 */
export type AnswerKind = 'answer' | 'nodata' | 'nxdomain' | 'referral' | 'cname' | 'yxdomain' | 'notauth';

export interface Answer {
  readonly kind: AnswerKind;
  readonly rcode: number;
  readonly aa: boolean;
  readonly answer: readonly ResourceRecord[];
  readonly authority: readonly ResourceRecord[];
  readonly additional: readonly ResourceRecord[];
  /** The zone the query started in. */
  readonly zone: Zone;
  /** Some data was synthesized from a wildcard (DNSSEC will need the closest-encloser proof). */
  readonly wildcard: boolean;
  /** CNAME/DNAME steps followed. */
  readonly chain: number;
}

/**
 * Which RRsets of a node answer qtype ANY: `minimal` (RFC 8482 §4.1, the default) picks one,
 * `full` returns them all (RFC 1035), or a function chooses.
 */
export type AnyPolicy = 'minimal' | 'full' | ((sets: readonly RRset[], node: ZoneNode) => readonly RRset[]);

export interface LookupOptions {
  /**
   * DNSSEC OK: RRSIGs go along with the RRsets they cover, and answers from a zone with an
   * NSEC/NSEC3 chain carry the denial proofs (RFC 4035 §3.1.3, RFC 5155 §7.2).
   */
  do?: boolean;
  /** Other zones served here: CNAME/DNAME chains are followed into them. */
  zones?: ZoneSet;
  /** Most CNAME/DNAME steps followed (default 16, as BIND's chain limit). */
  maxChain?: number;
  /**
   * Policy for qtype ANY: which of the node's RRsets to return. Default `minimal`: one RRset
   * (RFC 8482 §4.1, see minimalAny); `full`: every RRset at the node except RRSIG (RRSIGs are
   * sent with DO alongside each set). A node with no data gives NODATA either way.
   */
  anyPolicy?: AnyPolicy;
}

/** DNSSEC records: never what ANY was asked for, and large; chosen only when nothing else is there. */
const ANY_LAST: ReadonlySet<number> = new Set([RRType.DNSKEY, RRType.NSEC, RRType.NSEC3, RRType.NSEC3PARAM]);

/**
 * RFC 8482 §4.1 minimal ANY: exactly one RRset of the node, the one with the lowest type
 * number — what Knot returns (its nodes keep types in ascending order), so ANY at an apex gives
 * the NS set (type 2) and a host its A set. DNSKEY, NSEC, NSEC3 and NSEC3PARAM only when the
 * node has nothing else; RRSIG never (with DO it goes along with the chosen set). A node whose
 * only data is a CNAME gives the CNAME. Deterministic: a node's RRsets are in type order.
 */
export function minimalAny(sets: readonly RRset[]): readonly RRset[] {
  let last: RRset | undefined;
  for (const set of sets) {
    if (set.type === RRType.RRSIG) continue;
    if (!ANY_LAST.has(set.type)) return [set];
    last ??= set;
  }
  return last ? [last] : [];
}

export const DEFAULT_MAX_CHAIN = 16;

/**
 * The key under which a lookup result may be cached or precompiled (DESIGN.md "How a query
 * flows"): zone version, name, type, class and DO. The name is lower-cased: the cached wire
 * answer is reused with the question's case patched in.
 */
export function answerKey(zone: Zone, qname: Name, qtype: number, dnssec: boolean): string {
  return `${zone.origin.key}/${zone.serial}|${qname.key}|${qtype}|${zone.class}|${dnssec ? 1 : 0}`;
}

/** Section builder for one lookup. */
class Sections {
  readonly answer: ResourceRecord[] = [];
  readonly authority: ResourceRecord[] = [];
  readonly additional: ResourceRecord[] = [];
  /** RRsets already placed, so additional processing never repeats one. */
  private readonly placed = new Set<RRset>();
  wildcard = false;
  /** Denial-proof records already in authority (chains can need the same NSEC twice). */
  private readonly proven = new Set<ResourceRecord>();

  constructor(readonly dnssec: boolean) {}

  /** The SOA of a negative answer, with its RRSIGs under DO (RFC 2308 §3, RFC 4035 §3.1.3). */
  negative(zone: Zone): void {
    this.authority.push(zone.negativeSoa);
    if (this.dnssec) for (const sig of zone.negativeSoaSigs) this.authority.push(sig);
  }

  /**
   * With DO, the NSEC/NSEC3 records (and RRSIGs) proving `kind` for `name` in `zone`, when the
   * zone has a chain; a record already in authority is not repeated.
   */
  prove(zone: Zone, name: Name, qtype: number, kind: DenialKind): void {
    if (!this.dnssec || !hasDenialChain(zone)) return;
    for (const rr of denialProof(zone, name, qtype, kind)) {
      if (this.proven.has(rr)) continue;
      this.proven.add(rr);
      this.authority.push(rr);
    }
  }

  /** Adds `set` (owner replaced by `owner` when synthesizing from a wildcard) plus its RRSIGs. */
  add(section: ResourceRecord[], set: RRset, owner?: Name): void {
    // A chain can pass the same DNAME twice; one copy is enough. Wildcard sets are exempt:
    // each expansion has its own owner.
    if (owner === undefined) {
      if (this.placed.has(set)) return;
      this.placed.add(set);
    }
    pushRecords(section, set.records, owner);
    if (this.dnssec && set.sigs) pushRecords(section, set.sigs, owner);
  }

  addAdditional(set: RRset): void {
    if (!set.additional) return;
    for (const a of set.additional) if (!this.placed.has(a)) this.add(this.additional, a);
  }
}

function pushRecords(out: ResourceRecord[], records: readonly ResourceRecord[], owner: Name | undefined): void {
  if (owner === undefined) {
    for (const rr of records) out.push(rr);
    return;
  }
  for (const rr of records) out.push({ name: owner, type: rr.type, class: rr.class, ttl: rr.ttl, data: rr.data });
}

/** Result of one step of the chain: how it ended, or the name to continue with. */
interface StepResult {
  kind: AnswerKind;
  next?: Name;
}

/**
 * Answers `qname`/`qtype` from `zone` following RFC 1034 §4.3.2 with the RFC 2308 negative
 * answers, RFC 4592 wildcards, RFC 6672 DNAME and RFC 2181 §10 CNAME rules.
 *
 * Deterministic: the result depends only on the zones, qname (as given, case included: it is
 * the owner of synthesized records), qtype and `do`, so a caller may cache it per that key.
 */
export function lookup(zone: Zone, qname: Name, qtype: number, opts: LookupOptions = {}): Answer {
  const s = new Sections(opts.do === true);
  const maxChain = opts.maxChain ?? DEFAULT_MAX_CHAIN;
  if (!zone.contains(qname)) {
    return { kind: 'notauth', rcode: Rcode.REFUSED, aa: false, answer: [], authority: [], additional: [], zone, wildcard: false, chain: 0 };
  }
  let current = zone;
  let name = qname;
  let chain = 0;
  let aa = true;
  let rcode: number = Rcode.NOERROR;
  let kind: AnswerKind;
  const visited = new Set<string>();
  for (;;) {
    visited.add(name.key);
    const r = step(current, name, qtype, s, opts);
    kind = r.kind;
    if (kind === 'referral' && chain === 0) aa = false;
    if (kind === 'nxdomain') rcode = Rcode.NXDOMAIN;
    else if (kind === 'yxdomain') rcode = Rcode.YXDOMAIN;
    if (!r.next) break;
    // Follow the chain (RFC 1034 §4.3.2 step 3a), but only inside zones we serve, never in a
    // circle, and never further than maxChain steps.
    const next = r.next;
    const into = opts.zones ? opts.zones.find(next, current.class) : current.contains(next) ? current : undefined;
    if (!into || visited.has(next.key) || chain + 1 > maxChain) {
      kind = 'cname';
      break;
    }
    chain++;
    current = into;
    name = next;
  }
  return { kind, rcode, aa, answer: s.answer, authority: s.authority, additional: s.additional, zone, wildcard: s.wildcard, chain };
}

/** One name in one zone: RFC 1034 §4.3.2 steps 3a-3c. */
function step(zone: Zone, name: Name, qtype: number, s: Sections, opts: LookupOptions): StepResult {
  let enc = zone.closestEncloser(name)!;
  // RFC 5155 §7.2.8: an NSEC3 owner name is answered as if it did not exist.
  if (enc.exact && enc.node.flags & NodeFlag.NSEC3_OWNER && enc.node.parent) enc = { node: enc.node.parent, exact: false };
  let node = enc.node;
  // A cut or DNAME above the closest encloser wins over anything below it (occluded data).
  const cut = node.above;
  if (cut) return redirect(zone, cut, name, qtype, s);
  if (node.flags & NodeFlag.DELEGATION) {
    // DS at a cut is parent-side data, answered authoritatively here (RFC 4035 §3.1.4.1).
    if (enc.exact && qtype === RRType.DS) return exactMatch(zone, node, name, qtype, s, opts, false);
    return referral(zone, node, name, s);
  }
  if (enc.exact) return exactMatch(zone, node, name, qtype, s, opts, false);
  if (node.flags & NodeFlag.DNAME) return dname(zone, node, name, qtype, s);
  // RFC 4592 §3.3.1: only the wildcard child of the closest encloser may synthesize; an empty
  // non-terminal on the way is a closest encloser itself, so it blocks wildcards above it.
  const wild = node.wild;
  if (wild) {
    s.wildcard = true;
    node = wild;
    if (node.flags & NodeFlag.DELEGATION) return referral(zone, node, name, s);
    return exactMatch(zone, node, name, qtype, s, opts, true);
  }
  s.negative(zone);
  s.prove(zone, name, qtype, 'nxdomain');
  return { kind: 'nxdomain' };
}

/** The closest encloser lies below a cut or DNAME at `cut`: referral or DNAME synthesis. */
function redirect(zone: Zone, cut: ZoneNode, name: Name, qtype: number, s: Sections): StepResult {
  if (cut.flags & NodeFlag.DELEGATION) return referral(zone, cut, name, s);
  return dname(zone, cut, name, qtype, s);
}

/** Name found (or synthesized from a wildcard when `synth`): answer, CNAME, or NODATA. */
function exactMatch(zone: Zone, node: ZoneNode, name: Name, qtype: number, s: Sections, opts: LookupOptions, synth: boolean): StepResult {
  const owner = synth ? name : undefined;
  if (qtype === RRType.ANY && node.rrsets.length > 0) {
    const policy = opts.anyPolicy ?? 'minimal';
    const sets = policy === 'minimal' ? minimalAny(node.rrsets) : policy === 'full' ? node.rrsets : policy(node.rrsets, node);
    let any = false;
    for (const set of sets) {
      // RRSIGs go along with their sets; an NSEC at a wildcard owner describes `*`, never
      // the names it expands to (RFC 4035 §3.1.3.3), so it is not synthesized.
      if (set.type === RRType.RRSIG || (synth && set.type === RRType.NSEC)) continue;
      s.add(s.answer, set, owner);
      any = true;
    }
    if (any) {
      for (const set of sets) s.addAdditional(set);
      // RFC 4035 §3.1.3.3: a wildcard expansion carries proof that the name itself is absent.
      if (synth) s.prove(zone, name, qtype, 'wildcard-answer');
      return { kind: 'answer' };
    }
  }
  const set = node.getRRset(qtype);
  if (set) {
    s.add(s.answer, set, owner);
    s.addAdditional(set);
    if (synth) s.prove(zone, name, qtype, 'wildcard-answer');
    return { kind: 'answer' };
  }
  const cname = node.getRRset(RRType.CNAME);
  if (cname) {
    s.add(s.answer, cname, owner);
    if (synth) s.prove(zone, name, qtype, 'wildcard-answer');
    return { kind: 'cname', next: (cname.records[0]!.data as { target: Name }).target };
  }
  s.negative(zone);
  // RFC 4035 §3.1.3.1 (NODATA) and §3.1.3.4 (wildcard NODATA); RFC 5155 §7.2.3-7.2.5.
  s.prove(zone, name, qtype, synth ? 'wildcard-nodata' : 'nodata');
  return { kind: 'nodata' };
}

/**
 * Referral to the zone cut at `cut` (RFC 1034 §4.3.2 step 3b): NS in authority, glue. With DO
 * and a signed zone, the DS set, or the proof that there is none (RFC 4035 §3.1.4, RFC 5155
 * §7.2.7). An unsigned zone sends no DS even when it holds one (as NSD and Knot).
 */
function referral(zone: Zone, cut: ZoneNode, name: Name, s: Sections): StepResult {
  const ns = cut.getRRset(RRType.NS)!;
  s.add(s.authority, ns);
  if (s.dnssec && zone.signed) {
    const ds = cut.getRRset(RRType.DS);
    if (ds) s.add(s.authority, ds);
    else s.prove(zone, name, RRType.DS, 'referral');
  }
  s.addAdditional(ns);
  return { kind: 'referral' };
}

/**
 * DNAME substitution (RFC 6672 §2.2, §3): the DNAME, then a CNAME synthesized at the query
 * name with the DNAME's TTL, then the chain continues at the substituted name.
 */
function dname(zone: Zone, node: ZoneNode, name: Name, qtype: number, s: Sections): StepResult {
  const set = node.getRRset(RRType.DNAME)!;
  s.add(s.answer, set);
  const rr = set.records[0]!;
  let target: Name;
  try {
    target = name.replaceSuffix(node.name, (rr.data as { target: Name }).target);
  } catch (e) {
    if (e instanceof RangeError) return { kind: 'yxdomain' };
    throw e;
  }
  s.answer.push({ name, type: RRType.CNAME, class: zone.class, ttl: rr.ttl, data: { target } });
  if (qtype === RRType.CNAME) return { kind: 'answer' };
  return { kind: 'cname', next: target };
}
