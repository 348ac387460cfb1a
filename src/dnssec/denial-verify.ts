import { Name, RRType, type ResourceRecord } from '../wire/index.js';
import { base32hex, nsec3Hash } from './nsec3.js';
import type { Nsec3Data, NsecData } from './types.js';
import { EDE, type Ede, type ValidationBudget } from './validate.js';

/**
 * Checks authenticated denial of existence (RFC 4035 §5.4 for NSEC, RFC 5155 §8 for NSEC3) on
 * NSEC/NSEC3 records whose signatures were already verified. Each proof says `secure` (the
 * denial holds), `insecure` (NSEC3 opt-out or iterations above the limit: the answer may be
 * true but cannot be proven) or fails with the Extended DNS Error that explains why.
 */

export type Proof = { result: 'secure' } | { result: 'insecure'; ede?: Ede } | { result: 'bogus'; ede: Ede };

const SECURE: Proof = { result: 'secure' };
const missing = (text: string): Proof => ({ result: 'bogus', ede: { infoCode: EDE.NSEC_MISSING, text } });

interface Nsec { owner: Name; data: NsecData }
interface Nsec3 { owner: Name; data: Nsec3Data; hash: string; zone: Name }

export interface DenialRecords {
  nsec: Nsec[];
  nsec3: Nsec3[];
}

/** Collects NSEC and NSEC3 records (already verified) from a section. */
export function denialRecords(rrs: readonly ResourceRecord[]): DenialRecords {
  const out: DenialRecords = { nsec: [], nsec3: [] };
  for (const r of rrs) {
    if (r.data instanceof Uint8Array) continue;
    if (r.type === RRType.NSEC) out.nsec.push({ owner: r.name, data: r.data as NsecData });
    else if (r.type === RRType.NSEC3 && !r.name.isRoot) {
      out.nsec3.push({ owner: r.name, data: r.data as Nsec3Data, hash: r.name.lowerLabels[0]!, zone: r.name.parent() });
    }
  }
  return out;
}

// ---- NSEC ----

/** Does this NSEC prove that `name` does not exist: owner < name < next (canonical order, wrapping at the apex)? */
function nsecCovers(n: Nsec, name: Name): boolean {
  const afterOwner = n.owner.compare(name) < 0;
  const beforeNext = name.compare(n.data.next) < 0;
  if (n.owner.compare(n.data.next) < 0) return afterOwner && beforeNext;
  // The last NSEC of the zone points back to the apex.
  return afterOwner || (beforeNext && name.isSubdomainOf(n.data.next));
}

/** An NSEC from the parent side of a cut (NS without SOA) or at a DNAME proves nothing below its owner. */
function nsecCanProveBelow(n: Nsec, name: Name): boolean {
  if (!name.isSubdomainOf(n.owner) || name.equals(n.owner)) return true;
  const t = n.data.types;
  if (t.includes(RRType.DNAME)) return false;
  return !(t.includes(RRType.NS) && !t.includes(RRType.SOA));
}

function commonAncestor(a: Name, b: Name): Name {
  let n = Math.min(a.labelCount, b.labelCount);
  while (n > 0 && !a.suffix(n).equals(b.suffix(n))) n--;
  return a.suffix(n);
}

/** The closest encloser an NSEC covering `name` implies: the longer common ancestor of name with owner or next. */
function nsecEncloser(n: Nsec, name: Name): Name {
  const a = commonAncestor(name, n.owner);
  const b = commonAncestor(name, n.data.next);
  return a.labelCount >= b.labelCount ? a : b;
}

function nsecDenyType(n: Nsec, qtype: number): boolean {
  const t = n.data.types;
  if (t.includes(qtype) || t.includes(RRType.CNAME)) return false;
  // At a delegation (NS without SOA) only the DS answer is the parent's to deny.
  if (qtype !== RRType.DS && t.includes(RRType.NS) && !t.includes(RRType.SOA)) return false;
  if (qtype === RRType.DS && t.includes(RRType.SOA) && !n.owner.isRoot) return false; // the child's apex NSEC
  return true;
}

// ---- NSEC3 ----

type Hasher = (name: Name, d: Nsec3Data) => string | undefined;

function makeHasher(budget: ValidationBudget): Hasher {
  const memo = new Map<string, string>();
  return (name, d) => {
    const key = `${name.key}/${Buffer.from(d.salt).toString('hex')}/${d.iterations}`;
    const m = memo.get(key);
    if (m) return m;
    if (!budget.takeHash()) return undefined;
    const h = base32hex(nsec3Hash(name, d.salt, d.iterations));
    memo.set(key, h);
    return h;
  };
}

function nsec3Matches(n: Nsec3, name: Name, hash: Hasher): boolean | undefined {
  if (!name.isSubdomainOf(n.zone)) return false;
  const h = hash(name, n.data);
  if (h === undefined) return undefined;
  return h === n.hash;
}

function nsec3Covers(n: Nsec3, name: Name, hash: Hasher): boolean | undefined {
  if (!name.isSubdomainOf(n.zone)) return false;
  const h = hash(name, n.data);
  if (h === undefined) return undefined;
  const next = base32hex(n.data.nextHashed);
  if (n.hash < next) return n.hash < h && h < next;
  return h > n.hash || h < next; // the last NSEC3 of the chain wraps around
}

/** RFC 9276 §3.2 / RFC 5155 §8.1: unknown hash algorithms and too many iterations make the proof insecure. */
function nsec3Usable(set: Nsec3[], budget: ValidationBudget): Proof | undefined {
  if (set.some((n) => n.data.hashAlgorithm !== 1)) return { result: 'insecure', ede: { infoCode: EDE.DNSSEC_INDETERMINATE, text: 'unknown NSEC3 hash algorithm' } };
  const it = Math.max(...set.map((n) => n.data.iterations));
  if (it > budget.limits.maxNsec3Iterations) {
    return { result: 'insecure', ede: { infoCode: EDE.UNSUPPORTED_NSEC3_ITERATIONS, text: `NSEC3 iterations ${it} above the limit ${budget.limits.maxNsec3Iterations}` } };
  }
  return undefined;
}

const HASH_LIMIT: Proof = { result: 'bogus', ede: { infoCode: EDE.DNSSEC_BOGUS, text: 'NSEC3 hash limit reached' } };

/**
 * Closest encloser proof (RFC 5155 §8.3): an NSEC3 matching the closest encloser and one
 * covering the next closer name. `optOut` tells whether the covering NSEC3 has opt-out set.
 */
function closestEncloser(set: Nsec3[], name: Name, hash: Hasher): { ce: Name; nc: Name; optOut: boolean } | 'limit' | undefined {
  const zone = set[0]!.zone;
  for (let n = name.parent(); n.labelCount >= zone.labelCount && n.isSubdomainOf(zone); n = n.parent()) {
    let matched = false;
    for (const r of set) {
      const m = nsec3Matches(r, n, hash);
      if (m === undefined) return 'limit';
      if (m) { matched = true; break; }
    }
    if (matched) {
      const nc = name.suffix(n.labelCount + 1);
      for (const r of set) {
        const c = nsec3Covers(r, nc, hash);
        if (c === undefined) return 'limit';
        if (c) return { ce: n, nc, optOut: (r.data.flags & 1) === 1 };
      }
      return undefined;
    }
    if (n.isRoot) break;
  }
  return undefined;
}

function nsec3Set(d: DenialRecords, near: Name): Nsec3[] {
  // One zone's chain: the NSEC3 records whose zone is the longest one containing the name.
  let best: Name | undefined;
  for (const n of d.nsec3) if (near.isSubdomainOf(n.zone) && (!best || n.zone.labelCount > best.labelCount)) best = n.zone;
  return best ? d.nsec3.filter((n) => n.zone.equals(best!)) : [];
}

function findMatch(set: Nsec3[], name: Name, hash: Hasher): Nsec3 | 'limit' | undefined {
  for (const r of set) {
    const m = nsec3Matches(r, name, hash);
    if (m === undefined) return 'limit';
    if (m) return r;
  }
  return undefined;
}

function nsec3DenyType(n: Nsec3, qtype: number): boolean {
  const t = n.data.types;
  if (t.includes(qtype) || t.includes(RRType.CNAME)) return false;
  if (qtype !== RRType.DS && t.includes(RRType.NS) && !t.includes(RRType.SOA)) return false;
  return true;
}

// ---- proofs ----

/** NXDOMAIN: the name does not exist and no wildcard could have produced it. */
export function proveNxdomain(d: DenialRecords, name: Name, budget: ValidationBudget): Proof {
  if (d.nsec.length > 0) {
    // A covering NSEC whose next name lies below the name shows an empty non-terminal: the
    // name exists (RFC 4035 §3.1.3.2 needs the name itself to be absent).
    const cover = d.nsec.find((n) => nsecCovers(n, name) && nsecCanProveBelow(n, name) && !n.data.next.isSubdomainOf(name));
    if (!cover) return missing(`no NSEC proves that ${name} does not exist`);
    const ce = nsecEncloser(cover, name);
    const wild = ce.prepend('*');
    if (!d.nsec.some((n) => nsecCovers(n, wild))) return missing(`no NSEC proves that ${wild} does not exist`);
    return SECURE;
  }
  const set = nsec3Set(d, name);
  if (set.length === 0) return missing(`no NSEC or NSEC3 records for the NXDOMAIN of ${name}`);
  const bad = nsec3Usable(set, budget);
  if (bad) return bad;
  const hash = makeHasher(budget);
  const ce = closestEncloser(set, name, hash);
  if (ce === 'limit') return HASH_LIMIT;
  if (!ce) return missing(`no NSEC3 closest encloser proof for ${name}`);
  const wild = ce.ce.prepend('*');
  let wc = false;
  for (const r of set) {
    const c = nsec3Covers(r, wild, hash);
    if (c === undefined) return HASH_LIMIT;
    if (c) { wc = true; break; }
  }
  if (!wc) return missing(`no NSEC3 proves that ${wild} does not exist`);
  if (ce.optOut) return { result: 'insecure' };
  return SECURE;
}

/**
 * NODATA: the name exists without the type, or is an empty non-terminal, or a wildcard that
 * would match it lacks the type (RFC 4035 §3.1.3.4, RFC 5155 §8.5–8.7). For DS, an opt-out
 * span over the name makes it insecure (an unsigned delegation may be there).
 */
export function proveNodata(d: DenialRecords, name: Name, qtype: number, budget: ValidationBudget): Proof {
  if (d.nsec.length > 0) {
    const m = d.nsec.find((n) => n.owner.equals(name));
    if (m) return nsecDenyType(m, qtype) ? SECURE : { result: 'bogus', ede: { infoCode: EDE.DNSSEC_BOGUS, text: `NSEC at ${name} shows type ${qtype} (or a CNAME/delegation) exists` } };
    const cover = d.nsec.find((n) => nsecCovers(n, name) && nsecCanProveBelow(n, name));
    if (cover) {
      // An empty non-terminal: the next name lies below the name asked.
      if (cover.data.next.isSubdomainOf(name) && !cover.data.next.equals(name)) return SECURE;
      const wild = nsecEncloser(cover, name).prepend('*');
      const w = d.nsec.find((n) => n.owner.equals(wild));
      if (w && nsecDenyType(w, qtype)) return SECURE;
    }
    return missing(`no NSEC proves that ${name} has no ${qtype}`);
  }
  const set = nsec3Set(d, name);
  if (set.length === 0) return missing(`no NSEC or NSEC3 records for the NODATA of ${name}`);
  const bad = nsec3Usable(set, budget);
  if (bad) return bad;
  const hash = makeHasher(budget);
  const m = findMatch(set, name, hash);
  if (m === 'limit') return HASH_LIMIT;
  if (m) return nsec3DenyType(m, qtype) ? SECURE : { result: 'bogus', ede: { infoCode: EDE.DNSSEC_BOGUS, text: `NSEC3 for ${name} shows type ${qtype} (or a CNAME/delegation) exists` } };
  const ce = closestEncloser(set, name, hash);
  if (ce === 'limit') return HASH_LIMIT;
  if (!ce) return missing(`no NSEC3 matches ${name} and no closest encloser proof`);
  // RFC 5155 §8.6: DS NODATA under an opt-out span.
  if (qtype === RRType.DS && ce.optOut) return { result: 'insecure' };
  const wm = findMatch(set, ce.ce.prepend('*'), hash);
  if (wm === 'limit') return HASH_LIMIT;
  if (wm && nsec3DenyType(wm, qtype)) return SECURE;
  // RFC 5155 §8.7 / errata: an empty non-terminal covered by an opt-out span.
  if (ce.optOut) return { result: 'insecure' };
  return missing(`no NSEC3 proves that ${name} has no type ${qtype}`);
}

/**
 * A wildcard expansion (RFC 4035 §5.3.4, RFC 5155 §8.8): `encloser` comes from the RRSIG
 * labels; the name asked must not exist, shown by an NSEC covering it or an NSEC3 covering
 * the next closer name.
 */
export function proveWildcardAnswer(d: DenialRecords, name: Name, encloser: Name, budget: ValidationBudget): Proof {
  if (d.nsec.some((n) => nsecCovers(n, name) && nsecCanProveBelow(n, name))) return SECURE;
  const set = nsec3Set(d, name);
  if (set.length === 0) return missing(`no NSEC/NSEC3 proves that ${name} does not exist (wildcard answer)`);
  const bad = nsec3Usable(set, budget);
  if (bad) return bad;
  const hash = makeHasher(budget);
  const nc = name.suffix(encloser.labelCount + 1);
  for (const r of set) {
    const c = nsec3Covers(r, nc, hash);
    if (c === undefined) return HASH_LIMIT;
    if (c) return (r.data.flags & 1) === 1 ? { result: 'insecure' } : SECURE;
  }
  return missing(`no NSEC3 covers ${nc} (wildcard answer)`);
}

/** Which zone signed these denial records (the NSEC3 chain's zone), for picking keys. */
export function denialZone(rr: ResourceRecord): Name {
  return rr.type === RRType.NSEC3 && !rr.name.isRoot ? rr.name.parent() : rr.name;
}

/**
 * After a proven DS NODATA for `name`: does the proof show a delegation there (NS bit in the
 * NSEC/NSEC3 matching the name, an unsigned child zone) or no cut at all (the name is inside
 * its parent zone)? 'unknown' when no record matches the name (empty non-terminal, wildcard).
 */
export function delegationAt(d: DenialRecords, name: Name, budget: ValidationBudget): 'delegation' | 'no-cut' | 'unknown' {
  const n = d.nsec.find((x) => x.owner.equals(name));
  if (n) return n.data.types.includes(RRType.NS) ? 'delegation' : 'no-cut';
  const set = nsec3Set(d, name);
  if (set.length === 0 || nsec3Usable(set, budget)) return 'unknown';
  const m = findMatch(set, name, makeHasher(budget));
  if (!m || m === 'limit') return 'unknown';
  return m.data.types.includes(RRType.NS) ? 'delegation' : 'no-cut';
}

/**
 * The NSEC/NSEC3 records among `d` that take part in a denial for `name`: those matching or
 * covering the name, one of its ancestors inside the record's zone, or the wildcard below such
 * an ancestor. Used to put only the relevant part of a cached chain in a synthesised answer
 * (RFC 8198); hashes are charged to the budget like any proof.
 */
export function denialRecordsFor(records: readonly ResourceRecord[], name: Name, budget: ValidationBudget): ResourceRecord[] {
  const hash = makeHasher(budget);
  const out: ResourceRecord[] = [];
  for (const r of records) {
    if (r.data instanceof Uint8Array) continue;
    const d = denialRecords([r]);
    const zone = r.type === RRType.NSEC3 && !r.name.isRoot ? r.name.parent() : undefined;
    let useful = false;
    for (let a = name; !useful && a.labelCount >= (zone?.labelCount ?? 1); a = a.parent()) {
      if (zone && !a.isSubdomainOf(zone)) break;
      const probes = a.equals(name) ? [a] : [a, a.prepend('*')];
      for (const p of probes) {
        if (d.nsec[0]) useful = d.nsec[0].owner.equals(p) || nsecCovers(d.nsec[0], p);
        else if (d.nsec3[0]) useful = nsec3Matches(d.nsec3[0], p, hash) === true || nsec3Covers(d.nsec3[0], p, hash) === true;
        if (useful) break;
      }
      if (a.isRoot) break;
    }
    if (useful) out.push(r);
  }
  return out;
}
