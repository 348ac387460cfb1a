import { encodeRdata, Name, RRType, typeToString, type ResourceRecord } from '../wire/index.js';
import { recordPosition, type SourcePosition } from './parser.js';
import { isPackedRRset, NodeFlag, type RecordEvent, type RRset, type Zone, type ZoneNode } from './zone.js';

/** One finding of `checkZone`. `code` is stable (tests and tools match on it). */
export interface ZoneFinding {
  readonly code: string;
  readonly message: string;
  readonly name: Name;
  readonly type?: number;
  readonly position?: SourcePosition;
}

export interface ZoneFindings {
  readonly errors: ZoneFinding[];
  readonly warnings: ZoneFinding[];
}

export interface ZoneCheckResult extends ZoneFindings {
  /** The records to load: duplicates collapsed, out-of-zone data dropped, RRset TTLs unified. */
  readonly records: ResourceRecord[];
  /** The SOA serial when there is exactly one SOA at the apex. */
  readonly serial?: number;
}

export interface ZoneCheckOptions {
  /** Where a record came from. Default `recordPosition` (records parsed with `positions`). */
  readonly position?: (rr: ResourceRecord) => SourcePosition | undefined;
}

/** `FILE:LINE:COL: message` when the record's position is known, else `NAME/TYPE: message`. */
export function findingText(f: ZoneFinding): string {
  if (f.position && f.position.line) return `${f.position.file || '<input>'}:${f.position.line}:${f.position.col}: ${f.message}`;
  return `${f.name}${f.type !== undefined ? '/' + typeToString(f.type) : ''}: ${f.message}`;
}

// Types that may share a name with a CNAME (RFC 2181 §10.1, RFC 4035 §2.5 and RFC 3007 KEY).
const CNAME_COMPANIONS = new Set<number>([RRType.CNAME, RRType.RRSIG, RRType.NSEC, RRType.KEY]);
// What a delegation point legitimately holds; address records there serve as glue.
const AT_CUT = new Set<number>([RRType.NS, RRType.DS, RRType.NSEC, RRType.RRSIG, RRType.A, RRType.AAAA]);

function rdataKey(rr: ResourceRecord): string {
  const bytes = rr.data instanceof Uint8Array ? rr.data : encodeRdata(rr.type, rr.data, true);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Builds findings with positions; one per check run. */
class Reporter {
  constructor(private readonly where: (rr: ResourceRecord) => SourcePosition | undefined) {}

  make(code: string, rr: ResourceRecord | undefined, name: Name, message: string, type?: number): ZoneFinding {
    const position = rr ? this.where(rr) : undefined;
    return { code, message, name, ...(type !== undefined ? { type } : {}), ...(position ? { position } : {}) };
  }

  outOfZone(rr: ResourceRecord, origin: Name): ZoneFinding {
    return this.make('OUT_OF_ZONE', rr, rr.name, `ignoring out-of-zone data ${rr.name} (not below ${origin})`, rr.type);
  }

  duplicate(rr: ResourceRecord): ZoneFinding {
    return this.make('DUPLICATE', rr, rr.name, `duplicate ${typeToString(rr.type)} record collapsed`, rr.type);
  }

  ttlMismatch(rr: ResourceRecord, ttl: number): ZoneFinding {
    return this.make('TTL_MISMATCH', rr, rr.name, `TTL ${rr.ttl} differs from ${ttl} of the ${typeToString(rr.type)} RRset; using ${ttl}`, rr.type);
  }
}

/**
 * Types whose set, even alone at a name that is neither occluded nor a cut, a check looks at
 * (structureFindings, glueFindings, and the cut that NS makes): a lone set of any other type
 * can have no finding.
 */
const LONE_SET_CHECKED: ReadonlySet<number> = new Set([RRType.SOA, RRType.CNAME, RRType.DNAME, RRType.ZONEMD, RRType.NS]);

/**
 * The findings of one name, shared by `checkZone` and `checkBuiltZone` so both say the same:
 * `types[k]` and `sets[k]` are the name's RRsets (duplicates removed, first record first).
 */
interface NodeView {
  readonly name: Name;
  readonly isApex: boolean;
  readonly types: readonly number[];
  readonly sets: readonly (readonly ResourceRecord[])[];
}

function setOf(v: NodeView, type: number): readonly ResourceRecord[] | undefined {
  for (let k = 0; k < v.types.length; k++) if (v.types[k] === type) return v.sets[k];
  return undefined;
}

/** The lowest type's first record: where a finding about the whole name points. */
function firstRecord(v: NodeView): ResourceRecord {
  let best = 0;
  for (let k = 1; k < v.types.length; k++) if (v.types[k]! < v.types[best]!) best = k;
  return v.sets[best]![0]!;
}

// RFC 8976 §2.2.3: the digest sizes of the hash algorithms defined; BIND refuses other sizes.
const ZONEMD_DIGEST_SIZE = new Map<number, number>([[1, 48], [2, 64]]);

/** Hash algorithm and digest size of a ZONEMD record (decoded or opaque RDATA). */
function zonemdDigest(rr: ResourceRecord): { hash: number; size: number } | undefined {
  const d = rr.data as unknown;
  if (d instanceof Uint8Array) return d.length >= 6 ? { hash: d[5]!, size: d.length - 6 } : undefined;
  const z = d as { hashAlgorithm?: unknown; digest?: unknown };
  return typeof z.hashAlgorithm === 'number' && z.digest instanceof Uint8Array ? { hash: z.hashAlgorithm, size: z.digest.length } : undefined;
}

/** SOA elsewhere than the apex, CNAME and DNAME rules, ZONEMD digest sizes (errors). */
function structureFindings(r: Reporter, v: NodeView, out: ZoneFinding[]): void {
  const { name, isApex } = v;
  const soa = isApex ? undefined : setOf(v, RRType.SOA);
  if (soa) out.push(r.make('SOA_NOT_APEX', soa[0], name, `SOA record at ${name}, not at the zone apex`, RRType.SOA));
  const cname = setOf(v, RRType.CNAME);
  if (cname) {
    if (cname.length > 1) out.push(r.make('CNAME_MULTIPLE', cname[1], name, `multiple CNAME records at ${name}`, RRType.CNAME));
    for (let k = 0; k < v.types.length; k++) {
      const type = v.types[k]!;
      if (!CNAME_COMPANIONS.has(type)) out.push(r.make('CNAME_EXTRA_RECORDS', v.sets[k]![0], name, `CNAME and other data (${typeToString(type)}) at ${name}`, type));
    }
  }
  const dname = setOf(v, RRType.DNAME);
  if (dname) {
    if (dname.length > 1) out.push(r.make('DNAME_MULTIPLE', dname[1], name, `multiple DNAME records at ${name}`, RRType.DNAME));
    const ns = isApex ? undefined : setOf(v, RRType.NS);
    if (ns) out.push(r.make('DNAME_EXTRA_NS', ns[0], name, `NS record beside DNAME at ${name}`, RRType.NS));
  }
  const zonemd = setOf(v, RRType.ZONEMD);
  if (zonemd) {
    for (const rr of zonemd) {
      const z = zonemdDigest(rr);
      const want = z && ZONEMD_DIGEST_SIZE.get(z.hash);
      if (z && want !== undefined && z.size !== want) {
        out.push(r.make('ZONEMD_DIGEST', rr, name, `ZONEMD digest of ${z.size} octets for hash algorithm ${z.hash}: expected ${want} (RFC 8976)`, RRType.ZONEMD));
      }
    }
  }
}

/**
 * Occlusion (warnings). `dnameUp`/`cutUp`: labels up to the closest strict ancestor owning a
 * DNAME (the apex included) / being a delegation (0: none); `isCut`: the name is a delegation.
 */
function occlusionFindings(r: Reporter, v: NodeView, dnameUp: number, cutUp: number, isCut: boolean, out: ZoneFinding[]): void {
  const { name } = v;
  if (dnameUp > 0) {
    out.push(r.make('DNAME_CHILDREN', firstRecord(v), name, `${name} is occluded by the DNAME at ${name.parent(dnameUp)}`));
    return;
  }
  if (cutUp > 0) {
    for (let k = 0; k < v.types.length; k++) {
      const type = v.types[k]!;
      if (type !== RRType.A && type !== RRType.AAAA) {
        out.push(r.make('OCCLUDED', v.sets[k]![0], name, `${typeToString(type)} at ${name} is occluded by the delegation at ${name.parent(cutUp)}`, type));
      }
    }
  } else if (isCut) {
    for (let k = 0; k < v.types.length; k++) {
      const type = v.types[k]!;
      if (!AT_CUT.has(type)) out.push(r.make('OCCLUDED', v.sets[k]![0], name, `${typeToString(type)} at the delegation point ${name} is occluded`, type));
    }
  }
}

/** What the glue check needs to know about an NS target inside the zone. */
interface TargetInfo {
  /** The target owns A or AAAA, or does not exist and a wildcard gives it one (RFC 4592). */
  readonly addressed: boolean;
  /** The target or an ancestor of it below the apex is a delegation. */
  readonly belowCut: boolean;
}

/**
 * Glue: every in-zone NS target needs an address record. Errors for apex servers with
 * authoritative names; warnings for glue (named-checkzone still loads those zones).
 */
function glueFindings(
  r: Reporter, v: NodeView, origin: Name, target: (name: Name) => TargetInfo, reported: Set<string>,
  errors: ZoneFinding[], warnings: ZoneFinding[],
): void {
  const ns = setOf(v, RRType.NS);
  if (!ns) return;
  const { name, isApex } = v;
  for (const rr of ns) {
    if (rr.data instanceof Uint8Array) continue;
    const t = (rr.data as { target: Name }).target;
    if (!t.isSubdomainOf(origin)) continue;
    const info = target(t);
    if (info.addressed) continue;
    const k = `${name.key} ${t.key}`;
    if (reported.has(k)) continue;
    reported.add(k);
    // As named-checkzone: an apex server whose name is authoritative here must have an
    // address (error); missing glue below a cut only breaks that child (warning).
    const glue = (!isApex && t.isSubdomainOf(name)) || info.belowCut;
    (isApex && !glue ? errors : warnings).push(r.make('NS_GLUE', rr, name,
      `missing glue record: NS target ${t} has no ${glue && !isApex ? 'required glue ' : ''}address records (A or AAAA)`, RRType.NS));
  }
}

/** SOA and NS at the apex, DS not at the apex (errors), and the serial. */
function apexFindings(r: Reporter, origin: Name, apex: NodeView | undefined, out: ZoneFinding[]): number | undefined {
  let serial: number | undefined;
  const soa = apex && setOf(apex, RRType.SOA);
  if (!soa || soa.length === 0) out.push(r.make('SOA_MISSING', undefined, origin, `no SOA record at the zone apex ${origin}`, RRType.SOA));
  else if (soa.length > 1) out.push(r.make('SOA_MULTIPLE', soa[1], origin, `${soa.length} SOA records at the zone apex: expected exactly one`, RRType.SOA));
  else if (!(soa[0]!.data instanceof Uint8Array)) serial = (soa[0]!.data as { serial: number }).serial;
  if (!(apex && setOf(apex, RRType.NS)?.length)) out.push(r.make('NS_APEX', soa?.[0], origin, `no NS records at the zone apex ${origin}`, RRType.NS));
  // DS belongs to the parent side of a cut (RFC 4035 §2.4); at the apex it cannot be served.
  const ds = apex && setOf(apex, RRType.DS);
  if (ds?.length && !origin.isRoot) out.push(r.make('DS_APEX', ds[0], origin, `DS record at the zone apex ${origin}: it belongs in the parent zone`, RRType.DS));
  return serial;
}

// Bits of the per-name type summary in checkZone's table.
const M_NS = 1;
const M_DNAME = 2;
const M_ADDR = 4; // A or AAAA
const M_DATA = 8;

/** Key of the parent name, sliced from a key without escapes; undefined when it has escapes. */
function parentKey(key: string): string | undefined {
  if (key.indexOf('\\') >= 0) return undefined;
  const dot = key.indexOf('.');
  return dot === key.length - 1 ? '.' : key.slice(dot + 1);
}

function grown<T extends Int32Array | Uint8Array>(a: T, size: number): T {
  if (size <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(size, a.length * 2));
  b.set(a);
  return b;
}

/**
 * checkZone's table of names: a map from canonical key to a small integer and flat typed
 * arrays indexed by it, so a million names cost no objects of their own (typed arrays are
 * not traced by the garbage collector). Empty non-terminals are names too.
 */
class NameTable {
  readonly index = new Map<string, number>();
  size = 0;
  parent = new Int32Array(1024);
  /** Records at the name. */
  count = new Int32Array(1024);
  /** Index (in checkZone's record list) of the name's first record; -1 for none. */
  first = new Int32Array(1024);
  mask = new Uint8Array(1024);

  add(key: string): number {
    const i = this.size++;
    if (i === this.parent.length) {
      this.parent = grown(this.parent, i + 1);
      this.count = grown(this.count, i + 1);
      this.first = grown(this.first, i + 1);
      this.mask = grown(this.mask, i + 1);
    }
    this.index.set(key, i);
    this.parent[i] = -1;
    this.first[i] = -1;
    return i;
  }

  /** The index of `name` (below or at `apex`, which must be in the table), ancestors added. */
  nodeOf(name: Name, apexDepth: number): number {
    const key = name.key;
    const found = this.index.get(key);
    if (found !== undefined) return found;
    const i = this.add(key);
    let child = i;
    let childKey = key;
    for (let up = 1; name.labelCount - up >= apexDepth; up++) {
      const pk = parentKey(childKey) ?? name.parent(up).key;
      const p = this.index.get(pk);
      if (p !== undefined) {
        this.parent[child] = p;
        break;
      }
      const created = this.add(pk);
      this.parent[child] = created;
      child = created;
      childKey = pk;
    }
    return i;
  }

  /** Labels up from `i` to its closest strict ancestor whose mask has `bit` (0: none). */
  up(i: number, bit: number, skip: number): number {
    let n = 0;
    for (let j = this.parent[i]!; j >= 0; j = this.parent[j]!) {
      n++;
      if (j !== skip && (this.mask[j]! & bit) !== 0) return n;
    }
    return 0;
  }
}

/**
 * Semantic checks of a zone's records, like `named-checkzone` and `kzonecheck` (without the
 * DNSSEC ones). Errors make the zone unloadable; warnings do not.
 *
 * Memory: a table of names (NameTable) and the records grouped by a counting sort, so a
 * million records cost a map and a few flat arrays rather than a million small objects.
 */
export function checkZone(origin: Name, records: Iterable<ResourceRecord>, options: ZoneCheckOptions = {}): ZoneCheckResult {
  const r = new Reporter(options.position ?? recordPosition);
  const oc = origin.labelCount;

  // Pass 1: in-zone records, the name table (with empty non-terminals) and type summaries.
  const recs: ResourceRecord[] = [];
  let recNode = new Int32Array(1024);
  const table = new NameTable();
  /** Names owning data, in order of their first record (the order findings come in). */
  let dataOrder = new Int32Array(1024);
  let dataCount = 0;
  const recordWarnings: { at: number; f: ZoneFinding }[] = [];
  const apexIndex = table.add(origin.key);
  let hasCutsOrDnames = false;
  for (const rr of records) {
    if (!rr.name.isSubdomainOf(origin)) {
      recordWarnings.push({ at: recs.length - 0.5, f: r.outOfZone(rr, origin) });
      continue;
    }
    const i = table.nodeOf(rr.name, oc);
    let m = table.mask[i]!;
    if (!(m & M_DATA)) {
      m |= M_DATA;
      table.first[i] = recs.length;
      dataOrder = grown(dataOrder, dataCount + 1);
      dataOrder[dataCount++] = i;
    }
    const t = rr.type;
    if (t === RRType.NS) {
      m |= M_NS;
      if (i !== apexIndex) hasCutsOrDnames = true;
    } else if (t === RRType.DNAME) {
      m |= M_DNAME;
      hasCutsOrDnames = true;
    } else if (t === RRType.A || t === RRType.AAAA) m |= M_ADDR;
    table.mask[i] = m;
    table.count[i]!++;
    recNode = grown(recNode, recs.length + 1);
    recNode[recs.length] = i;
    recs.push(rr);
  }
  const { index, parent, mask, count } = table;

  // Group records by name in first-appearance order (a stable counting sort).
  const start = new Int32Array(table.size);
  let offset = 0;
  for (let d = 0; d < dataCount; d++) {
    const i = dataOrder[d]!;
    start[i] = offset;
    offset += count[i]!;
  }
  const order = new Int32Array(recs.length);
  const fill = start.slice();
  for (let k = 0; k < recs.length; k++) order[fill[recNode[k]!]!++] = k;
  recNode = new Int32Array(0);

  const isCut = (i: number): boolean => i !== apexIndex && (mask[i]! & M_NS) !== 0;
  const target = (t: Name): TargetInfo => {
    // The deepest existing name at or above t (its closest encloser, or t itself).
    let e = index.get(t.key);
    const exact = e !== undefined;
    if (exact && (mask[e!]! & M_ADDR)) return { addressed: true, belowCut: false };
    let key = t.key;
    for (let n = 1; e === undefined; n++) {
      key = parentKey(key) ?? t.parent(n).key;
      e = index.get(key);
    }
    let addressed = false;
    if (!exact) {
      const wild = index.get(key === '.' ? '*.' : '*.' + key);
      addressed = wild !== undefined && (mask[wild]! & M_ADDR) !== 0;
    }
    let belowCut = isCut(e);
    for (let j = parent[e]!; !belowCut && j >= 0; j = parent[j]!) belowCut = isCut(j);
    return { addressed, belowCut };
  };

  // Pass 2, per name: duplicates and TTLs, then the findings of that name.
  const out: ResourceRecord[] = [];
  const structure: ZoneFinding[] = [];
  const occlusion: ZoneFinding[] = [];
  const glueErrors: ZoneFinding[] = [];
  const glueWarnings: ZoneFinding[] = [];
  const reported = new Set<string>();
  let apexView: NodeView | undefined;
  // The common name with one record reuses these (the checks keep records and names only).
  const oneType = [0];
  const oneSet: ResourceRecord[] = [];
  const oneSets = [oneSet];
  for (let d = 0; d < dataCount; d++) {
    const i = dataOrder[d]!;
    const s = start[i]!;
    const e = s + count[i]!;
    const name = recs[table.first[i]!]!.name;
    let view: NodeView;
    if (e - s === 1) {
      const rr = recs[order[s]!]!;
      oneType[0] = rr.type;
      oneSet[0] = rr;
      out.push(rr);
      view = { name, isApex: i === apexIndex, types: i === apexIndex ? [rr.type] : oneType, sets: i === apexIndex ? [[rr]] : oneSets };
    } else {
      const types: number[] = [];
      const members: number[][] = [];
      for (let k = s; k < e; k++) {
        const at = order[k]!;
        const type = recs[at]!.type;
        let g = types.indexOf(type);
        if (g < 0) {
          g = types.length;
          types.push(type);
          members.push([]);
        }
        members[g]!.push(at);
      }
      const sets: ResourceRecord[][] = [];
      for (let g = 0; g < types.length; g++) sets.push(dedupSet(recs, members[g]!, r, recordWarnings, out));
      view = { name, isApex: i === apexIndex, types, sets };
    }
    if (view.isApex) apexView = view;
    structureFindings(r, view, structure);
    if (hasCutsOrDnames) {
      const dnameUp = table.up(i, M_DNAME, -1);
      const cutUp = table.up(i, M_NS, apexIndex);
      occlusionFindings(r, view, dnameUp, cutUp, isCut(i), occlusion);
      if (dnameUp > 0 || cutUp > 0) continue; // occluded NS: no glue check
    }
    if (mask[i]! & M_NS) glueFindings(r, view, origin, target, reported, glueErrors, glueWarnings);
  }
  oneSet.length = 0;

  const errors: ZoneFinding[] = [];
  const serial = apexFindings(r, origin, apexView, errors);
  errors.push(...structure, ...glueErrors);
  recordWarnings.sort((a, b) => a.at - b.at);
  const warnings = recordWarnings.map((w) => w.f);
  warnings.push(...occlusion, ...glueWarnings);
  return { errors, warnings, records: out, ...(serial !== undefined ? { serial } : {}) };
}

/**
 * One RRset of checkZone: collapses duplicates (canonical RDATA, RFC 2181 §5) and gives every
 * record the first one's TTL (RFC 2181 §5.2; RRSIGs keep theirs). Pushes the records to load to
 * `out` and returns the set's distinct records as parsed (their positions intact).
 */
function dedupSet(recs: ResourceRecord[], at: number[], r: Reporter, warnings: { at: number; f: ZoneFinding }[], out: ResourceRecord[]): ResourceRecord[] {
  const first = recs[at[0]!]!;
  out.push(first);
  const kept = [first];
  if (at.length === 1) return kept;
  const keys: string[] = [rdataKey(first)];
  // Small sets compare keys directly; large ones (round-robin pools) use a set.
  let seen: Set<string> | undefined;
  for (let k = 1; k < at.length; k++) {
    const rr = recs[at[k]!]!;
    const key = rdataKey(rr);
    if (!seen && keys.length > 16) seen = new Set(keys);
    if (seen ? seen.has(key) : keys.includes(key)) {
      warnings.push({ at: at[k]!, f: r.duplicate(rr) });
      continue;
    }
    keys.push(key);
    seen?.add(key);
    kept.push(rr);
    if (rr.type !== RRType.RRSIG && rr.ttl !== first.ttl) {
      warnings.push({ at: at[k]!, f: r.ttlMismatch(rr, first.ttl) });
      out.push({ ...rr, ttl: first.ttl });
    } else out.push(rr);
  }
  return kept;
}

/**
 * The OUT_OF_ZONE, DUPLICATE or TTL_MISMATCH finding for a record a ZoneBuilder reported (its
 * `onRecord` event, the RRset's TTL), worded as `checkBuiltZone` words it: for loaders that
 * stream records into the builder instead of keeping them for `checkBuiltZone`.
 */
export function recordEventFinding(event: RecordEvent, rr: ResourceRecord, origin: Name, ttl: number, options: ZoneCheckOptions = {}): ZoneFinding {
  const r = new Reporter(options.position ?? recordPosition);
  return event === 'outside' ? r.outOfZone(rr, origin) : event === 'duplicate' ? r.duplicate(rr) : r.ttlMismatch(rr, ttl);
}

/**
 * The checks of `checkZone` run on a zone that `buildZone` already loaded, so a server builds
 * the tree once and checks it without a second table of names. Give the records the zone was
 * built from (in the order parsed, out-of-zone ones included) to get the record-level findings
 * too: OUT_OF_ZONE, DUPLICATE and TTL_MISMATCH (buildZone collapses those silently). The
 * findings are those of `checkZone` on the same records; findings about one name come in
 * canonical name order and ascending type order rather than file order, and a name is spelled
 * as the tree spells it (its first record's case).
 */
export function checkBuiltZone(zone: Zone, records?: readonly ResourceRecord[], options: ZoneCheckOptions = {}): ZoneFindings {
  const r = new Reporter(options.position ?? recordPosition);
  const origin = zone.origin;
  const warnings: ZoneFinding[] = records ? recordFindings(zone, records, r, options) : [];

  // Reused for every node: the checks keep records and names, never these arrays.
  const types: number[] = [];
  const sets: (readonly ResourceRecord[])[] = [];
  const view = (node: ZoneNode): NodeView => {
    types.length = 0;
    sets.length = 0;
    for (let k = 0; k < node.rrsetCount; k++) {
      const set = node.rrsetAt(k);
      types.push(set.type);
      sets.push(set.records);
    }
    return { name: node.name, isApex: node === zone.apex, types, sets };
  };
  const isCut = (n: ZoneNode): boolean => (n.flags & NodeFlag.DELEGATION) !== 0;
  const ownsDname = (n: ZoneNode): boolean => (n.flags & NodeFlag.DNAME) !== 0;
  const up = (node: ZoneNode, test: (n: ZoneNode) => boolean): number => {
    let n = 0;
    for (let p = node.parent; p; p = p.parent) {
      n++;
      if (test(p)) return n;
    }
    return 0;
  };
  const hasAddress = (n: ZoneNode | undefined): boolean => !!n && (n.getRRset(RRType.A) !== undefined || n.getRRset(RRType.AAAA) !== undefined);
  const target = (t: Name): TargetInfo => {
    let node = zone.getNode(t);
    if (hasAddress(node)) return { addressed: true, belowCut: false };
    let addressed = false;
    if (!node) {
      node = zone.closestEncloser(t)!.node;
      addressed = hasAddress(node.wild);
    }
    let belowCut = false;
    for (let n: ZoneNode | undefined = node; n && !belowCut; n = n.parent) belowCut = isCut(n);
    return { addressed, belowCut };
  };

  const errors: ZoneFinding[] = [];
  apexFindings(r, origin, view(zone.apex), errors);
  const occlusion: ZoneFinding[] = [];
  const glueErrors: ZoneFinding[] = [];
  const glueWarnings: ZoneFinding[] = [];
  const reported = new Set<string>();
  for (const node of zone.unorderedNodes) {
    if (node.isEmptyNonTerminal) continue;
    // Most names of a large zone own one set that no check is about: skip building their view.
    if (node.rrsetCount === 1 && !node.above && !LONE_SET_CHECKED.has(node.rrsetAt(0).type)) continue;
    const v = view(node);
    structureFindings(r, v, errors);
    if (node.above) {
      occlusionFindings(r, v, up(node, ownsDname), up(node, isCut), false, occlusion);
      continue; // occluded NS: no glue check
    }
    if (isCut(node)) occlusionFindings(r, v, 0, 0, true, occlusion);
    if (node.getRRset(RRType.NS)) glueFindings(r, v, origin, target, reported, glueErrors, glueWarnings);
  }
  errors.push(...glueErrors);
  warnings.push(...occlusion, ...glueWarnings);
  return { errors, warnings };
}

/**
 * OUT_OF_ZONE, DUPLICATE and TTL_MISMATCH for the records a zone was built from, found by
 * looking each record up in the tree: buildZone keeps the first record of each distinct RDATA
 * (itself or a copy sharing its `data`), so a record whose data is not in its RRset was a
 * duplicate. When the records do not add up to the zone's count (records shared one data
 * object, or are not the ones the zone was built from) the table-based checkZone decides.
 */
function recordFindings(zone: Zone, records: readonly ResourceRecord[], r: Reporter, options: ZoneCheckOptions): ZoneFinding[] {
  const origin = zone.origin;
  const out: ZoneFinding[] = [];
  const large = new Map<RRset, Set<unknown>>();
  const claimed = new Set<RRset>();
  let kept = 0;
  let consistent = true;
  for (const rr of records) {
    if (!rr.name.isSubdomainOf(origin)) {
      out.push(r.outOfZone(rr, origin));
      continue;
    }
    const set = zone.getNode(rr.name)?.getRRset(rr.type);
    if (!set) {
      consistent = false;
      break;
    }
    const members = set.records;
    let found = false;
    if (isPackedRRset(set)) {
      // A packed set's record is built anew on each read: the kept record is the first one in
      // file order with its RDATA, so match by content and let only that one claim the set.
      found = !claimed.has(set) && rdataKey(members[0]!) === rdataKey(rr);
      if (found) claimed.add(set);
    } else if (members.length <= 16) {
      for (let k = 0; k < members.length; k++) {
        if (members[k]!.data === rr.data) {
          found = true;
          break;
        }
      }
    } else {
      let s = large.get(set);
      if (!s) large.set(set, (s = new Set(members.map((x) => x.data))));
      found = s.has(rr.data);
    }
    if (!found) out.push(r.duplicate(rr));
    else {
      kept++;
      if (rr.type !== RRType.RRSIG && rr.ttl !== set.ttl) out.push(r.ttlMismatch(rr, set.ttl));
    }
  }
  if (consistent && kept === zone.recordCount) return out;
  const codes = new Set(['OUT_OF_ZONE', 'DUPLICATE', 'TTL_MISMATCH']);
  return checkZone(origin, records, options).warnings.filter((f) => codes.has(f.code));
}
