import { Name, RRType, type ResourceRecord } from '../wire/index.js';
import type { RRset, Zone, ZoneNode } from '../zone/zone.js';
import { base32hex, nsec3Hash } from './nsec3.js';
import type { Nsec3Data } from './types.js';

/**
 * Authenticated denial of existence for answers from a signed zone (RFC 4035 §3.1.3 for NSEC,
 * RFC 5155 §7.2 for NSEC3): which NSEC/NSEC3 records, with their RRSIGs, go into the authority
 * section of a DO answer. Works on any zone that carries a chain, ours or signed elsewhere.
 *
 * - `nxdomain`: the name does not exist, nor a wildcard that could have produced it;
 * - `nodata`: the name exists without the type (also DS at a cut, and empty non-terminals);
 * - `wildcard-answer`: the answer was synthesized from a wildcard: the name itself does not exist;
 * - `wildcard-nodata`: the wildcard matched but lacks the type;
 * - `referral`: a referral without DS: the cut has no DS (or is covered by opt-out).
 */
export type DenialKind = 'nxdomain' | 'nodata' | 'wildcard-answer' | 'wildcard-nodata' | 'referral';

interface Nsec3Entry {
  readonly hash: string;
  readonly set: RRset;
}

interface DenialIndex {
  readonly mode: 'nsec' | 'nsec3' | 'none';
  /** NSEC owners in canonical order. */
  readonly nsec: readonly ZoneNode[];
  /** NSEC3 sets sorted by hash (base32hex, lower case: sorts as the hash bytes do). */
  readonly nsec3: readonly Nsec3Entry[];
  readonly salt: Uint8Array;
  readonly iterations: number;
}

const indexes = new WeakMap<Zone, DenialIndex>();

/** The zone's denial index, built on first use and kept for the zone's life (zones are immutable). */
function indexOf(zone: Zone): DenialIndex {
  let ix = indexes.get(zone);
  if (ix) return ix;
  const param = zone.apex.getRRset(RRType.NSEC3PARAM)?.records.find((r) => !(r.data instanceof Uint8Array) && r.data.hashAlgorithm === 1);
  if (param) {
    const p = param.data as { iterations: number; salt: Uint8Array };
    const entries: Nsec3Entry[] = [];
    for (const node of zone.nodes) {
      const set = node.getRRset(RRType.NSEC3);
      if (!set || node.parent !== zone.apex) continue;
      const d = set.records[0]!.data as Nsec3Data;
      if (d instanceof Uint8Array || d.iterations !== p.iterations || !Buffer.from(d.salt).equals(Buffer.from(p.salt))) continue;
      entries.push({ hash: node.name.lowerLabels[0]!, set });
    }
    entries.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
    ix = { mode: 'nsec3', nsec: [], nsec3: entries, salt: p.salt, iterations: p.iterations };
  } else if (zone.apex.getRRset(RRType.NSEC)) {
    ix = { mode: 'nsec', nsec: zone.nodes.filter((n) => n.getRRset(RRType.NSEC) !== undefined), nsec3: [], salt: new Uint8Array(0), iterations: 0 };
  } else {
    ix = { mode: 'none', nsec: [], nsec3: [], salt: new Uint8Array(0), iterations: 0 };
  }
  indexes.set(zone, ix);
  return ix;
}

/** True when the zone carries an NSEC or NSEC3 chain (then DO answers need proofs). */
export function hasDenialChain(zone: Zone): boolean {
  return indexOf(zone).mode !== 'none';
}

/** Collects RRsets once each, with their RRSIGs. */
class Proof {
  private readonly seen = new Set<RRset>();
  readonly records: ResourceRecord[] = [];

  add(set: RRset | undefined): void {
    if (!set || this.seen.has(set)) return;
    this.seen.add(set);
    this.records.push(...set.records);
    if (set.sigs) this.records.push(...set.sigs);
  }
}

/**
 * The NSEC or NSEC3 records (and their RRSIGs) that prove `kind` for `qname`/`qtype` in a
 * signed `zone`. Empty when the zone has no chain or `qname` is outside it.
 */
export function denialProof(zone: Zone, qname: Name, qtype: number, kind: DenialKind): ResourceRecord[] {
  if (!zone.contains(qname)) return [];
  const ix = indexOf(zone);
  if (ix.mode === 'none') return [];
  const proof = new Proof();
  if (ix.mode === 'nsec') nsecProof(zone, ix, qname, kind, proof);
  else nsec3Proof(zone, ix, qname, qtype, kind, proof);
  return proof.records;
}

// ---- NSEC (RFC 4035 §3.1.3) ----

/** The NSEC whose owner is the greatest name not after `name` (it matches or covers `name`). */
function nsecAtOrBefore(ix: DenialIndex, name: Name): RRset | undefined {
  const list = ix.nsec;
  let lo = 0;
  let hi = list.length - 1;
  let found = list.length - 1; // before the apex cannot happen inside the zone; wrap defensively
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.name.compare(name) <= 0) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return list[found]?.getRRset(RRType.NSEC);
}

function cutAbove(zone: Zone, qname: Name): ZoneNode | undefined {
  const enc = zone.closestEncloser(qname);
  if (!enc) return undefined;
  return enc.node.above ?? enc.node;
}

function nsecProof(zone: Zone, ix: DenialIndex, qname: Name, kind: DenialKind, proof: Proof): void {
  const ce = zone.closestEncloser(qname)!.node;
  switch (kind) {
    case 'nxdomain':
      proof.add(nsecAtOrBefore(ix, qname));
      // No wildcard at the closest encloser could have matched (RFC 4035 §3.1.3.2).
      proof.add(nsecAtOrBefore(ix, ce.name.prepend('*')));
      return;
    case 'nodata': {
      // The NSEC at the name shows the type is absent (RFC 4035 §3.1.3.1); an empty
      // non-terminal owns no NSEC and is proven by the NSEC that covers it (RFC 4035 §3.1.3.2).
      proof.add(zone.getNode(qname)?.getRRset(RRType.NSEC) ?? nsecAtOrBefore(ix, qname));
      return;
    }
    case 'wildcard-answer':
      proof.add(nsecAtOrBefore(ix, qname));
      return;
    case 'wildcard-nodata':
      proof.add(nsecAtOrBefore(ix, qname));
      proof.add(ce.wild?.getRRset(RRType.NSEC) ?? nsecAtOrBefore(ix, ce.name.prepend('*')));
      return;
    case 'referral': {
      const cut = cutAbove(zone, qname);
      proof.add(cut?.getRRset(RRType.NSEC));
      return;
    }
  }
}

// ---- NSEC3 (RFC 5155 §7.2) ----

function hashOf(ix: DenialIndex, name: Name): string {
  return base32hex(nsec3Hash(name, ix.salt, ix.iterations));
}

function nsec3Match(ix: DenialIndex, name: Name): RRset | undefined {
  const h = hashOf(ix, name);
  const list = ix.nsec3;
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = list[mid]!.hash;
    if (m === h) return list[mid]!.set;
    if (m < h) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** The NSEC3 whose owner hash is the greatest below the name's hash (wrapping to the last). */
function nsec3Cover(ix: DenialIndex, name: Name): RRset | undefined {
  const h = hashOf(ix, name);
  const list = ix.nsec3;
  if (list.length === 0) return undefined;
  let lo = 0;
  let hi = list.length - 1;
  let found = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.hash < h) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return list[found]!.set;
}

/**
 * The closest (provable) encloser proof of RFC 5155 §7.2.1: the NSEC3 matching the deepest
 * ancestor of `qname` that has one, and the NSEC3 covering the next closer name. Returns the
 * closest encloser. `self` allows `qname` itself to be the encloser (it is not, for NXDOMAIN).
 */
function closestEncloserProof(zone: Zone, ix: DenialIndex, qname: Name, proof: Proof, self = false): Name {
  const depth = qname.labelCount - zone.origin.labelCount;
  for (let up = self ? 0 : 1; up <= depth; up++) {
    const ce = qname.parent(up);
    const m = nsec3Match(ix, ce);
    if (!m) continue;
    proof.add(m);
    if (up > 0) proof.add(nsec3Cover(ix, qname.parent(up - 1)));
    return ce;
  }
  return zone.origin;
}

function nsec3Proof(zone: Zone, ix: DenialIndex, qname: Name, _qtype: number, kind: DenialKind, proof: Proof): void {
  switch (kind) {
    case 'nxdomain': {
      // §7.2.2: closest encloser, next closer name covered, wildcard at the encloser covered.
      const ce = closestEncloserProof(zone, ix, qname, proof);
      proof.add(nsec3Cover(ix, ce.prepend('*')));
      return;
    }
    case 'nodata': {
      // §7.2.3: the matching NSEC3 shows the type absent. §7.2.4: DS with no matching NSEC3
      // (an opt-out delegation): the closest provable encloser and an opt-out cover.
      const m = nsec3Match(ix, qname);
      if (m) proof.add(m);
      else closestEncloserProof(zone, ix, qname, proof);
      return;
    }
    case 'wildcard-nodata': {
      // §7.2.5: closest encloser proof plus the NSEC3 matching the wildcard.
      const ce = closestEncloserProof(zone, ix, qname, proof);
      proof.add(nsec3Match(ix, ce.prepend('*')));
      return;
    }
    case 'wildcard-answer': {
      // §7.2.6: the next closer name is covered (the encloser comes from the RRSIG labels).
      const enc = zone.closestEncloser(qname)!.node.name;
      if (enc.labelCount < qname.labelCount) proof.add(nsec3Cover(ix, qname.parent(qname.labelCount - enc.labelCount - 1)));
      return;
    }
    case 'referral': {
      // §7.2.7: the NSEC3 matching the cut (no DS bit), or with opt-out the closest provable
      // encloser and the opt-out NSEC3 covering the next closer name.
      const cut = cutAbove(zone, qname);
      if (!cut) return;
      const m = nsec3Match(ix, cut.name);
      if (m) proof.add(m);
      else closestEncloserProof(zone, ix, cut.name, proof);
      return;
    }
  }
}
