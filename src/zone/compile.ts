import { Name, RRType, type ResourceRecord } from '../wire/index.js';
import { NodeFlag, sharePackedTarget, type NodeTable, type RRset, type ZoneNode } from './zone.js';

/** The nodes in canonical order, and where each one went. */
export interface CanonicalOrder {
  readonly nodes: ZoneNode[];
  /** rank[i]: the canonical index of the node at position i of the table's insertion order. */
  readonly rank: Int32Array;
}

/**
 * Runs once per load, after every record is in the tree (DESIGN.md "Authoritative"): links
 * parents, marks the apex, delegations, DNAMEs and wildcards, points occluded nodes at the cut
 * above them, hangs RRSIGs on the sets they cover and precomputes the additional-section targets
 * (glue for NS, addresses for MX and SRV). Sets each node's `index` to its position in the
 * table's insertion order. Nothing here allocates per query later.
 *
 * The canonical order (RFC 4034 §6.1) is not part of it: answering needs none, so `Zone` sorts
 * its nodes the first time something walks them in order (a transfer, signing, NSEC chains).
 * Sorting a million siblings was about a tenth of a large zone's load.
 */
export function compile(origin: Name, byKey: NodeTable): void {
  const steps = compileSteps(origin, byKey);
  while (!steps.next().done);
}

/** Nodes handled between two pauses of `compileAsync` and of `Zone.prepareOrder`. */
const SLICE = 16384;

/**
 * The same compile in slices, awaiting `pause` between them, so a server loading a large zone
 * keeps answering (a 1M-name compile takes seconds of CPU).
 */
export async function compileAsync(origin: Name, byKey: NodeTable, pause: () => Promise<void>): Promise<void> {
  const steps = compileSteps(origin, byKey);
  while (!steps.next().done) await pause();
}

/** The compile as a generator that yields every SLICE nodes of each pass. */
function* compileSteps(origin: Name, byKey: NodeTable): Generator<void, void> {
  const all = byKey.nodeList();
  const n = all.length;
  // Parents before children: the nodes by depth (a counting sort on label counts). The
  // insertion order is not enough, since a node goes into the table before the empty
  // non-terminals created above it.
  const base = origin.labelCount;
  const depth = new Uint8Array(n); // names have at most 127 labels
  // Wildcards, noted here while each node's Name is read anyway (in insertion order, which is
  // close to memory order), so the pass by depth below reads no Name at all.
  const wildcard = new Uint8Array(n);
  const from = new Int32Array(129);
  for (let i = 0; i < n; i++) {
    const node = all[i]!;
    node.index = i;
    const name = node.name;
    const d = name.labelCount - base;
    depth[i] = d;
    if (d > 0 && name.firstLabel === '*') wildcard[i] = 1;
    from[d + 1]!++;
  }
  for (let d = 0; d < 128; d++) from[d + 1]! += from[d]!;
  const byDepth = new Int32Array(n);
  for (let i = 0; i < n; i++) byDepth[from[depth[i]!]!++] = i;
  yield;
  // Nodes with a child, for the NSEC3 owners below (a leaf holding nothing but NSEC3 and RRSIG).
  const parentOfSome = new Uint8Array(n);
  for (let j = 0; j < n; j++) {
    if (j % SLICE === SLICE - 1) yield;
    const i = byDepth[j]!;
    const node = all[i]!;
    let flags = 0;
    if (depth[i] === 0) flags |= NodeFlag.APEX;
    else {
      const parent = node.parent; // linked while building
      if (parent) {
        parentOfSome[parent.index] = 1;
        const above = parent.above ?? ((parent.flags & (NodeFlag.DELEGATION | NodeFlag.DNAME)) !== 0 ? parent : undefined);
        if (above) node.above = above;
        if (wildcard[i] === 1) {
          flags |= NodeFlag.WILDCARD;
          parent.wild = node;
        }
      }
      if (node.getRRset(RRType.NS)) flags |= NodeFlag.DELEGATION;
    }
    if (node.getRRset(RRType.DNAME)) flags |= NodeFlag.DNAME;
    node.flags = flags;
    attachSigs(node);
  }
  for (let i = 0; i < n; i++) {
    if (i % SLICE === SLICE - 1) yield;
    const node = all[i]!;
    if (parentOfSome[i] === 0 && node.getRRset(RRType.NSEC3)) {
      let only = true;
      for (let k = 0; k < node.rrsetCount && only; k++) only = node.rrsetAt(k).type === RRType.NSEC3 || node.rrsetAt(k).type === RRType.RRSIG;
      if (only) node.flags |= NodeFlag.NSEC3_OWNER;
    }
    if (node.above) continue; // occluded data is never answered from, so needs no targets
    for (let k = 0; k < node.rrsetCount; k++) {
      const set = node.rrsetAt(k);
      if (set.type === RRType.NS || set.type === RRType.MX || set.type === RRType.SRV) {
        set.additional = targetsOf(set, byKey, origin, set.type === RRType.NS);
      } else if (set.type === RRType.SVCB || set.type === RRType.HTTPS) {
        set.additional = svcbTargetsOf(set, byKey);
      } else if (set.type === RRType.CNAME) {
        for (const rr of set.records) {
          const target = targetName(rr);
          const to = target && target.isSubdomainOf(origin) && byKey.get(target);
          if (to) shareTarget(set, rr, target, to.name);
        }
      }
    }
  }
}

/** `canonicalOrderSteps` run to the end. */
export function canonicalOrder(all: readonly ZoneNode[]): CanonicalOrder {
  const steps = canonicalOrderSteps(all);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * The nodes in canonical order (RFC 4034 §6.1), which is the pre-order walk of the tree with
 * siblings sorted by their lower-case first label as octet strings, as a generator that yields
 * between slices. `all` is the node table's list; every node's `index` must be its position
 * there (compile sets it), and becomes its canonical position. Sorting siblings by one label
 * each needs no per-node sort key (building reversed keys for a million nodes was most of the
 * compile time and its garbage); child lists are flat typed arrays.
 */
export function* canonicalOrderSteps(all: readonly ZoneNode[]): Generator<void, CanonicalOrder> {
  const n = all.length;
  // Children of node p are kids[start[p] .. start[p + 1]).
  const start = new Int32Array(n + 1);
  let root = -1;
  for (let i = 0; i < n; i++) {
    const p = all[i]!.parent;
    if (p) start[p.index + 1]!++;
    else root = i;
  }
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
  yield;
  const fill = start.slice(0, n);
  const kids = new Int32Array(Math.max(n - 1, 0));
  for (let i = 0; i < n; i++) {
    const p = all[i]!.parent;
    if (p) kids[fill[p.index]!++] = i;
  }
  yield;
  // Labels are binary strings (one char per octet), so string order is octet order.
  const first = all.map((node) => node.name.firstLowerLabel);
  yield;
  const byLabel = (x: number, y: number): number => {
    const a = first[x]!;
    const b = first[y]!;
    return a < b ? -1 : a > b ? 1 : 0;
  };
  for (let p = 0; p < n; p++) {
    if (p % SLICE === SLICE - 1) yield;
    if (start[p + 1]! - start[p]! > 1) kids.subarray(start[p]!, start[p + 1]!).sort(byLabel);
  }
  yield;
  const out: ZoneNode[] = new Array(n);
  // Where each node went: the node table renumbers its slots from this array instead of
  // visiting every node again (a cache miss each, at a million nodes). `fill` is done with.
  const rank = fill;
  let k = 0;
  const stack = new Int32Array(n);
  let top = 0;
  if (root >= 0) stack[top++] = root;
  while (top > 0) {
    if (k % SLICE === SLICE - 1) yield;
    const i = stack[--top]!;
    rank[i] = k;
    const node = all[i]!;
    node.index = k; // every parent's insertion position was read above
    out[k++] = node;
    for (let c = start[i + 1]! - 1; c >= start[i]!; c--) stack[top++] = kids[c]!;
  }
  if (k !== n) throw new Error(`zone tree: ${n - k} nodes not linked to the apex`);
  return { nodes: out, rank };
}

/** A/AAAA sets of the in-zone targets of an NS, MX or SRV set; `glue` admits occluded data. */
function targetsOf(set: RRset, byKey: NodeTable, origin: Name, glue: boolean): RRset[] | undefined {
  let out: RRset[] | undefined;
  for (const rr of set.records) {
    const target = targetName(rr);
    // A name outside the zone has no node: no lookup (each is a miss to memory in a large table).
    if (!target || !target.isSubdomainOf(origin)) continue;
    const node = byKey.get(target);
    if (!node) continue;
    shareTarget(set, rr, target, node.name);
    if (!glue && !node.isAuthoritative) continue;
    for (const type of [RRType.A, RRType.AAAA]) {
      const addr = node.getRRset(type);
      if (addr && !(out ??= []).includes(addr)) out.push(addr);
    }
  }
  return exactSize(out);
}

/**
 * The array as kept by the tree: an array grown by `push` from empty reserves 17 slots (184
 * bytes for one target, against 56 for an exact one), and a zone keeps one per delegation with
 * glue and, signed, one list of signatures per RRset.
 */
function exactSize<T>(list: T[] | undefined): T[] | undefined {
  return list === undefined ? undefined : list.slice();
}

/**
 * RFC 9460 §4.1: with an SVCB/HTTPS answer, an authoritative server returns the A and AAAA
 * records of in-zone TargetNames (the owner itself when the target is "." in ServiceMode) and,
 * for AliasMode (priority 0), the target's own SVCB/HTTPS set. One level only, as PowerDNS.
 */
function svcbTargetsOf(set: RRset, byKey: NodeTable): RRset[] | undefined {
  let out: RRset[] | undefined;
  const push = (s: RRset | undefined): void => {
    if (s && s !== set && !(out ??= []).includes(s)) out.push(s);
  };
  for (const rr of set.records) {
    const d = rr.data as unknown;
    if (d instanceof Uint8Array || typeof d !== 'object' || d === null) continue;
    const { priority, target } = d as { priority?: unknown; target?: unknown };
    if (typeof priority !== 'number' || !(target instanceof Name)) continue;
    const name = target.isRoot ? (priority === 0 ? undefined : set.name) : target;
    if (!name) continue;
    const node = byKey.get(name);
    if (!node || !node.isAuthoritative) continue;
    if (priority === 0) push(node.getRRset(set.type));
    push(node.getRRset(RRType.A));
    push(node.getRRset(RRType.AAAA));
  }
  return exactSize(out);
}

/**
 * The name an NS, MX or SRV record points at. Works on decoded data (`target`, `exchange`) and
 * on opaque SRV RDATA (priority, weight, port, then an uncompressed name).
 */
export function targetName(rr: ResourceRecord): Name | undefined {
  const d = rr.data as unknown;
  if (d instanceof Uint8Array) {
    if (rr.type !== RRType.SRV || d.length < 7) return undefined;
    try {
      const { name, next } = Name.fromWire(d, 6, d.length);
      return next === d.length ? name : undefined;
    } catch {
      return undefined;
    }
  }
  if (typeof d !== 'object' || d === null) return undefined;
  const o = d as { target?: unknown; exchange?: unknown };
  const n = rr.type === RRType.MX ? o.exchange : o.target;
  return n instanceof Name ? n : undefined;
}

/**
 * Points a record's target at the node's Name when both are spelled alike (case included), so
 * the zone holds one Name for both: a CNAME's target parsed from RDATA is otherwise a second
 * object for a name the tree already has. Only the identity of an equal, immutable Name
 * changes; opaque or frozen data is left alone. A packed set (whose record is built on each
 * read) holds the Name itself.
 */
function shareTarget(set: RRset, rr: ResourceRecord, target: Name, name: Name): void {
  if (target === name || !sameSpelling(target, name)) return;
  if (sharePackedTarget(set, name)) return;
  const d = rr.data as { target?: Name; exchange?: Name };
  if (d instanceof Uint8Array || Object.isFrozen(d)) return;
  if (d.target === target) d.target = name;
  else if (d.exchange === target) d.exchange = name;
}

/** The same labels, byte for byte (case too); shared parents end the walk. */
function sameSpelling(a: Name, b: Name): boolean {
  if (a.labelCount !== b.labelCount) return false;
  while (a !== b) {
    if (a.labelCount === 0) return b.labelCount === 0;
    if (a.firstLabel !== b.firstLabel) return false;
    a = a.parent();
    b = b.parent();
  }
  return true;
}

/** The type an RRSIG covers: `typeCovered` of decoded data, or the first two opaque bytes. */
export function coveredType(rr: ResourceRecord): number | undefined {
  const d = rr.data as unknown;
  if (d instanceof Uint8Array) return d.length >= 2 ? (d[0]! << 8) | d[1]! : undefined;
  if (typeof d === 'object' && d !== null) {
    const t = (d as { typeCovered?: unknown }).typeCovered;
    return typeof t === 'number' ? t : undefined;
  }
  return undefined;
}

function attachSigs(node: ZoneNode): void {
  const sigSet = node.getRRset(RRType.RRSIG);
  if (!sigSet) return;
  const byType = new Map<number, ResourceRecord[]>();
  for (const rr of sigSet.records) {
    const t = coveredType(rr);
    if (t === undefined) continue;
    let list = byType.get(t);
    if (!list) byType.set(t, (list = []));
    list.push(rr);
  }
  for (let k = 0; k < node.rrsetCount; k++) {
    const set = node.rrsetAt(k);
    if (set.type !== RRType.RRSIG) set.sigs = exactSize(byType.get(set.type));
  }
}
