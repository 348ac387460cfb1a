import { Name, RRType, type ResourceRecord } from '../wire/index.js';
import { NodeFlag, type Zone, type ZoneNode } from '../zone/zone.js';
import { base32hex, nsec3Hash } from './nsec3.js';
import type { Nsec3Data, NsecData } from './types.js';

/**
 * Authenticated denial chains (RFC 4034 §4, RFC 5155 §7.1) over a built zone tree. The tree
 * tells which names are authoritative: data below a zone cut or a DNAME (glue, occluded names)
 * is neither chained nor signed; a cut itself is chained with only NS and DS in its bitmap
 * (RFC 4035 §2.3).
 */

/** What the signer does with a node. */
export type NodeRole = 'authoritative' | 'delegation' | 'empty' | 'occluded';

export function nodeRole(node: ZoneNode): NodeRole {
  if (node.above) return 'occluded';
  if (node.flags & NodeFlag.DELEGATION) return 'delegation';
  // An ENT, or a name whose only data is DNSSEC meta data we are about to replace.
  if (node.rrsets.length === 0) return 'empty';
  return 'authoritative';
}

/** Types that a node's RRSIGs will cover once signed: every authoritative type; at a cut only DS. */
export function signedTypes(node: ZoneNode): number[] {
  const role = nodeRole(node);
  if (role === 'delegation') return node.getRRset(RRType.DS) ? [RRType.DS] : [];
  if (role !== 'authoritative') return [];
  return node.rrsets.filter((s) => s.type !== RRType.RRSIG).map((s) => s.type);
}

/** Types listed in a node's NSEC/NSEC3 bitmap, without NSEC/NSEC3 and RRSIG themselves. */
function bitmapTypes(node: ZoneNode): number[] {
  const role = nodeRole(node);
  if (role === 'delegation') return node.rrsets.filter((s) => s.type === RRType.NS || s.type === RRType.DS).map((s) => s.type);
  if (role !== 'authoritative') return [];
  return node.rrsets.filter((s) => s.type !== RRType.RRSIG && s.type !== RRType.NSEC && s.type !== RRType.NSEC3).map((s) => s.type);
}

function sortedTypes(types: number[]): number[] {
  return [...new Set(types)].sort((a, b) => a - b);
}

/**
 * The NSEC chain: one NSEC per name that owns authoritative data or is a cut, in canonical
 * order, the last pointing back at the apex. ENTs own nothing, so they get no NSEC (RFC 4034 §4.1.1).
 */
export function nsecChain(zone: Zone, ttl: number): ResourceRecord<NsecData>[] {
  const owners = zone.nodes.filter((n) => {
    const r = nodeRole(n);
    return r === 'authoritative' || r === 'delegation';
  });
  const out: ResourceRecord<NsecData>[] = [];
  for (let i = 0; i < owners.length; i++) {
    const node = owners[i]!;
    const next = owners[(i + 1) % owners.length]!.name;
    const types = sortedTypes([...bitmapTypes(node), RRType.NSEC, RRType.RRSIG]);
    out.push({ name: node.name, type: RRType.NSEC, class: zone.class, ttl, data: { next, types } });
  }
  return out;
}

export interface Nsec3Params {
  iterations: number;
  salt: Uint8Array;
  /** RFC 5155 §6: unsigned delegations are left out of the chain; every NSEC3 gets flag 1. */
  optOut: boolean;
}

/** NSEC3 owner of a name: base32hex(hash) as the first label below the apex. */
export function nsec3Owner(origin: Name, name: Name, p: Pick<Nsec3Params, 'iterations' | 'salt'>): { owner: Name; hash: Uint8Array } {
  const hash = nsec3Hash(name, p.salt, p.iterations);
  return { owner: origin.prepend(base32hex(hash)), hash };
}

export class HashCollisionError extends Error {
  constructor(a: Name, b: Name) {
    super(`NSEC3 hash collision between ${a} and ${b}: choose another salt`);
    this.name = 'HashCollisionError';
  }
}

/**
 * The NSEC3 chain (RFC 5155 §7.1): one NSEC3 per authoritative name, cut and empty
 * non-terminal (an ENT gets an empty bitmap), sorted by hash, each naming the next hash. The
 * RRSIG bit is set where the original owner has signatures; NSEC3 itself is never in the bitmap.
 */
export function nsec3Chain(zone: Zone, params: Nsec3Params, ttl: number): ResourceRecord<Nsec3Data>[] {
  const entries: Array<{ owner: Name; hash: Uint8Array; key: string; node: ZoneNode }> = [];
  for (const node of zone.nodes) {
    const role = nodeRole(node);
    if (role === 'occluded') continue;
    if (role === 'delegation' && params.optOut && !node.getRRset(RRType.DS)) continue;
    const { owner, hash } = nsec3Owner(zone.origin, node.name, params);
    entries.push({ owner, hash, key: Buffer.from(hash).toString('hex'), node });
  }
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const out: ResourceRecord<Nsec3Data>[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const next = entries[(i + 1) % entries.length]!;
    if (i + 1 < entries.length && next.key === e.key) throw new HashCollisionError(e.node.name, next.node.name);
    const types = bitmapTypes(e.node);
    if (signedTypes(e.node).length > 0) types.push(RRType.RRSIG);
    out.push({
      name: e.owner,
      type: RRType.NSEC3,
      class: zone.class,
      ttl,
      data: {
        hashAlgorithm: 1,
        flags: params.optOut ? 1 : 0,
        iterations: params.iterations,
        salt: params.salt,
        nextHashed: next.hash,
        types: sortedTypes(types),
      },
    });
  }
  return out;
}
