import { encodeRdata, formatIPv4Number, ipv4Number, isMetaType, Name, RRType, typeToString, recordToText, type ResourceRecord, type SoaData } from '../wire/index.js';
import { canonicalOrder, canonicalOrderSteps, compile, compileAsync, type CanonicalOrder } from './compile.js';

/**
 * One RRset of a zone: every record shares the owner Name object, class and TTL (RFC 2181 §5.2:
 * a set with mixed TTLs is loaded with the first TTL seen, as BIND does).
 */
export interface RRset {
  readonly name: Name;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly records: readonly ResourceRecord[];
  /**
   * Set by compile() for NS, MX and SRV sets: the A/AAAA RRsets of their targets inside this zone
   * (for NS also glue below cuts; for MX/SRV authoritative data only). Undefined when none.
   */
  additional: readonly RRset[] | undefined;
  /** Set by compile(): the RRSIGs at this owner covering this type (DNSSEC, sent with DO). */
  sigs: readonly ResourceRecord[] | undefined;
}

const NO_RRSETS: RRset[] = [];

/** ZoneNode keeps its flags below this bit and its canonical index above (fits 2^47 nodes). */
const FLAG_SPAN = 32;
const FLAG_MASK = FLAG_SPAN - 1;

/** Bits of ZoneNode.flags, set by compile(). */
export const NodeFlag = {
  /** The zone apex. */
  APEX: 1,
  /** NS below the apex: a zone cut, the parent side (NS, DS, NSEC) lives here. */
  DELEGATION: 2,
  /** Owns a DNAME: names below it are redirected (RFC 6672). */
  DNAME: 4,
  /** First label is `*` (RFC 4592 wildcard domain name). */
  WILDCARD: 8,
  /**
   * Owns nothing but NSEC3 (and its RRSIGs) and has no names below: answered as a name that
   * does not exist (RFC 5155 §7.2.8).
   */
  NSEC3_OWNER: 16,
} as const;

/** The rarely set parts of an RRset (see RRsetLinks). */
interface RRsetExtra {
  readonly additional: readonly RRset[] | undefined;
  readonly sigs: readonly ResourceRecord[] | undefined;
}

const NO_EXTRA: RRsetExtra = Object.freeze({ additional: undefined, sigs: undefined });

/**
 * `additional` and `sigs` of a tree RRset in one field, which most sets share: NO_EXTRA (neither
 * set), the `additional` array itself (no sigs: a delegation's glue, an MX's addresses), or an
 * RRsetExtra holding both. The functions below read and write it; RRsetLinks and PackedNode hold it.
 */
type RRsetLinkField = RRsetExtra | readonly RRset[];

function linkedAdditional(x: RRsetLinkField): readonly RRset[] | undefined {
  return Array.isArray(x) ? x : (x as RRsetExtra).additional;
}

function linkedSigs(x: RRsetLinkField): readonly ResourceRecord[] | undefined {
  return Array.isArray(x) ? undefined : (x as RRsetExtra).sigs;
}

function links(additional: readonly RRset[] | undefined, sigs: readonly ResourceRecord[] | undefined): RRsetLinkField {
  return sigs === undefined ? (additional ?? NO_EXTRA) : { additional, sigs };
}

abstract class RRsetLinks {
  private extra: RRsetLinkField = NO_EXTRA;

  get additional(): readonly RRset[] | undefined {
    return linkedAdditional(this.extra);
  }

  set additional(v: readonly RRset[] | undefined) {
    this.extra = links(v, this.sigs);
  }

  get sigs(): readonly ResourceRecord[] | undefined {
    return linkedSigs(this.extra);
  }

  set sigs(v: readonly ResourceRecord[] | undefined) {
    this.extra = links(this.additional, v);
  }
}

/**
 * The tree's RRset: owner, type, class and TTL are read from the first record (every record
 * shares the node's Name, and the first record carries the set's TTL), and `additional` and
 * `sigs` live in one object that most sets share, so a set is two fields instead of seven:
 * at a million sets that is about 24 MB less to hold and trace.
 */
class ZoneRRset extends RRsetLinks implements RRset {
  /**
   * The record itself when the set has one (most sets of a large zone), else the array: a
   * million one-record sets then hold a million arrays less (two heap objects each) for the
   * garbage collector to copy and mark while a zone loads.
   */
  private recs: ResourceRecord | readonly ResourceRecord[];

  constructor(records: ResourceRecord | readonly ResourceRecord[]) {
    super();
    this.recs = records;
  }

  /** The records; a set of one gives a new one-element array each time. */
  get records(): readonly ResourceRecord[] {
    const r = this.recs;
    return Array.isArray(r) ? r : [r as ResourceRecord];
  }

  /** Holds `records` (two or more, or an array the builder is still filling) as they are. */
  hold(records: readonly ResourceRecord[]): void {
    this.recs = records;
  }

  /** The first record (it carries the set's owner, type, class and TTL). */
  private get first(): ResourceRecord {
    const r = this.recs;
    return Array.isArray(r) ? r[0]! : (r as ResourceRecord);
  }

  get name(): Name {
    return this.first.name;
  }

  get type(): number {
    return this.first.type;
  }

  get class(): number {
    return this.first.class;
  }

  get ttl(): number {
    return this.first.ttl;
  }
}

/**
 * A one-record RRset (most sets of a large zone) kept as one object: owner, type and class, TTL
 * and the RDATA in the form packRdata gives (an address as a number or a string, a TXT as a
 * string, a name target as its Name, any other data object as it is), instead of a set, a record
 * and, for the first kinds, a data object and what that holds: at a million records, two to six
 * heap objects less each for the young generation to copy while the zone loads and for every
 * full collection to mark. `records` builds the record when asked (the answer path asks once per
 * precompiled answer), so two calls give equal records, not the same object; nothing keys such
 * records by identity (DNSSEC proof dedup keys NSEC, NSEC3 and RRSIG records, which are never
 * packed).
 */
class PackedRRset extends RRsetLinks implements RRset {
  /** See packedKind. */
  private readonly kind: number;

  constructor(readonly name: Name, type: number, cls: number, readonly ttl: number, private packed: Packed) {
    super();
    this.kind = packedKind(type, cls);
  }

  get type(): number {
    return this.kind & 0xffff;
  }

  get class(): number {
    return this.kind >>> 16;
  }

  get records(): readonly ResourceRecord[] {
    return packedRecords(this.name, this.kind, this.ttl, this.packed);
  }

  /** Holds `name` in place of the target Name it holds (sharePackedTarget checks that it does). */
  shareTarget(name: Name): void {
    this.packed = name;
  }

  /** The RDATA as held (see packedForm). */
  get held(): Packed {
    return this.packed;
  }
}

/**
 * What a packed set holds: an IPv4 address as a number, an AAAA or TXT as a string, the Name of
 * an NS, CNAME, PTR or DNAME, or the record's data object itself.
 */
type Packed = number | string | Name | object;

/**
 * Class and type in one 32-bit integer (class in the high half): V8 keeps it in the object as a
 * small integer. A larger number would be a heap number of its own in every set.
 */
function packedKind(type: number, cls: number): number {
  return (cls << 16) | type;
}

/** The set as one of the two packed classes, or undefined. */
function asPacked(set: RRset): PackedRRset | PackedNode | undefined {
  return set instanceof PackedRRset || (set instanceof PackedNode && set.isOwnSet) ? set : undefined;
}

/** The one record of a packed set, built anew on each read. */
function packedRecords(name: Name, kind: number, ttl: number, packed: Packed): readonly ResourceRecord[] {
  const type = kind & 0xffff;
  return [{ name, type, class: kind >>> 16, ttl, data: unpackRdata(type, packed) }];
}

/** True for a set held packed (one record, built anew on each read). */
export function isPackedRRset(set: RRset): boolean {
  return asPacked(set) !== undefined;
}

/**
 * How a packed set holds its RDATA (for tests and diagnostics): 'number' (an IPv4 address),
 * 'string' (AAAA, TXT), 'name' (a target), 'object' (the data as it came); undefined when the
 * set is not packed.
 */
export function packedForm(set: RRset): 'number' | 'string' | 'name' | 'object' | undefined {
  const p = asPacked(set)?.held;
  if (p === undefined) return undefined;
  return typeof p === 'number' ? 'number' : typeof p === 'string' ? 'string' : p instanceof Name ? 'name' : 'object';
}

/** Types whose records are never packed: DNSSEC proof dedup and the signer key them by identity. */
const NEVER_PACKED = new Set<number>([RRType.RRSIG, RRType.NSEC, RRType.NSEC3]);

/**
 * A record's data as a packed set holds it: an IPv4 address as a 32-bit integer (a small integer
 * to V8, so no heap object at all), an IPv6 address's text as it is, a TXT's character-strings
 * as their wire form, one char per octet, the target Name of an NS, CNAME, PTR or DNAME; other
 * data (other types, opaque bytes, an IPv4 text that is not canonical, shapes built by hand) as
 * the object it is. Undefined for the types that are never packed.
 */
function packRdata(type: number, data: unknown): Packed | undefined {
  if (typeof data !== 'object' || data === null || NEVER_PACKED.has(type)) return undefined;
  if (type === RRType.A || type === RRType.AAAA) {
    const a = (data as { address?: unknown }).address;
    if (typeof a !== 'string' || !onlyKey(data, 'address')) return data;
    return type === RRType.A ? (ipv4Number(a, true) ?? data) : a;
  }
  if (type === RRType.NS || type === RRType.CNAME || type === RRType.PTR || type === RRType.DNAME) {
    const t = (data as { target?: unknown }).target;
    return t instanceof Name && onlyKey(data, 'target') ? t : data;
  }
  if (type !== RRType.TXT && type !== RRType.SPF) return data;
  const strings = (data as { strings?: unknown }).strings;
  if (!Array.isArray(strings) || !onlyKey(data, 'strings')) return data;
  // One flat string from one array of codes (concatenating would leave a tree of strings).
  const codes: number[] = [];
  for (const s of strings) {
    if (!(s instanceof Uint8Array) || s.length > 255) return data;
    codes.push(s.length);
    for (let i = 0; i < s.length; i++) codes.push(s[i]!);
  }
  return String.fromCharCode.apply(null, codes);
}

/** `o` has no own enumerable property but `key` (checked without an array of its keys). */
function onlyKey(o: object, key: string): boolean {
  for (const k in o) if (k !== key) return false;
  return true;
}

/** packRdata's inverse: a new data object equal to the one packed, or the data object kept. */
function unpackRdata(type: number, packed: Packed): unknown {
  if (typeof packed === 'number') return { address: formatIPv4Number(packed) };
  if (packed instanceof Name) return { target: packed };
  if (typeof packed !== 'string') return packed;
  if (type === RRType.AAAA) return { address: packed };
  const strings: Uint8Array[] = [];
  for (let i = 0; i < packed.length; ) {
    const n = packed.charCodeAt(i++);
    const s = new Uint8Array(n);
    for (let k = 0; k < n; k++) s[k] = packed.charCodeAt(i + k);
    strings.push(s);
    i += n;
  }
  return { strings };
}

/**
 * Lets a packed set that holds a target Name (NS, CNAME, PTR, DNAME) hold `name`, spelled
 * exactly alike, instead (compile shares the node's Name). False for any other set, whose
 * record's data object (kept, also when packed) the caller changes instead.
 */
export function sharePackedTarget(set: RRset, name: Name): boolean {
  const packed = asPacked(set);
  if (!(packed?.held instanceof Name)) return false;
  packed.shareTarget(name);
  return true;
}

/**
 * The rarely set links of a node as an object: `above` and `wild` of any node, and for a
 * PackedNode that is its own set, that set's `additional` and `sigs` (see NodeLinks).
 */
interface NodeExtra {
  readonly above: ZoneNode | undefined;
  readonly wild: ZoneNode | undefined;
  readonly additional: readonly RRset[] | undefined;
  readonly sigs: readonly ResourceRecord[] | undefined;
}

const NO_NODE_EXTRA: NodeExtra = Object.freeze({ above: undefined, wild: undefined, additional: undefined, sigs: undefined });

/**
 * A node's rare links in one field, in the form that most nodes can share or that needs no
 * object of its own: NO_NODE_EXTRA (none), the `above` node itself (occluded glue), the
 * `additional` array itself (a packed delegation's or MX's targets), or a NodeExtra with all four.
 */
type NodeLinks = NodeExtra | ZoneNode | readonly RRset[];

function nodeLinks(above: ZoneNode | undefined, wild: ZoneNode | undefined, additional: readonly RRset[] | undefined, sigs: readonly ResourceRecord[] | undefined): NodeLinks {
  if (wild === undefined && sigs === undefined) {
    if (additional === undefined) return above ?? NO_NODE_EXTRA;
    if (above === undefined) return additional;
  }
  return { above, wild, additional, sigs };
}

/** The TTL field of a PackedNode that is no longer its own set (its own set fields are unused). */
const UNPACKED = -1;

/**
 * A node of the zone tree, one per name that owns data, plus one per empty non-terminal.
 * Kept small on purpose (one object, and an array only for a name with two RRsets or more) so a
 * 1M-name zone fits.
 */
export class ZoneNode {
  /**
   * The RRsets: the one set itself (most names of a large zone own one), or an array of two or
   * more in ascending type order, or the shared empty array (an empty non-terminal, RFC 4592
   * §2.2.2). Never changed in place (the builder replaces it). A PackedNode that is its own
   * set keeps its RDATA here instead (see there).
   */
  protected sets: RRset | RRset[] | Packed = NO_RRSETS;
  /** `flags` (low 5 bits) and `index + 1` (above them) in one number: one field less per node. */
  private bits = 0;
  /** The node one label up (undefined at the apex). */
  parent: ZoneNode | undefined = undefined;
  /** `above` and `wild`, which few nodes have, and a PackedNode's set links (see NodeLinks). */
  protected extra: NodeLinks = NO_NODE_EXTRA;
  constructor(readonly name: Name) {}

  /**
   * The topmost strict ancestor that is a delegation (below the apex) or owns a DNAME: when set,
   * this node's data is occluded and a lookup is answered by that node instead.
   */
  get above(): ZoneNode | undefined {
    const x = this.extra;
    return x instanceof ZoneNode ? x : Array.isArray(x) ? undefined : (x as NodeExtra).above;
  }

  set above(v: ZoneNode | undefined) {
    this.extra = nodeLinks(v, this.wild, this.ownAdditional, this.ownSigs);
  }

  /** The `*` child of this node, the source of synthesis when this node is the closest encloser. */
  get wild(): ZoneNode | undefined {
    const x = this.extra;
    return x instanceof ZoneNode || Array.isArray(x) ? undefined : (x as NodeExtra).wild;
  }

  set wild(v: ZoneNode | undefined) {
    this.extra = nodeLinks(this.above, v, this.ownAdditional, this.ownSigs);
  }

  /** The `additional` held in `extra` (a PackedNode's own set's). */
  protected get ownAdditional(): readonly RRset[] | undefined {
    const x = this.extra;
    return Array.isArray(x) ? x : x instanceof ZoneNode ? undefined : (x as NodeExtra).additional;
  }

  /** The `sigs` held in `extra` (a PackedNode's own set's). */
  protected get ownSigs(): readonly ResourceRecord[] | undefined {
    const x = this.extra;
    return Array.isArray(x) || x instanceof ZoneNode ? undefined : (x as NodeExtra).sigs;
  }

  /** NodeFlag bits, set by compile(). */
  get flags(): number {
    return this.bits & FLAG_MASK;
  }

  set flags(v: number) {
    this.bits = (this.bits - (this.bits & FLAG_MASK)) + (v & FLAG_MASK);
  }

  /**
   * Position in the zone's node list: insertion order after compile(), canonical order
   * (RFC 4034 §6.1) once the zone has sorted its nodes (`Zone.nodes`); -1 before compile().
   */
  get index(): number {
    return Math.floor(this.bits / FLAG_SPAN) - 1;
  }

  set index(i: number) {
    this.bits = (i + 1) * FLAG_SPAN + (this.bits & FLAG_MASK);
  }

  /** RRsets in ascending type order; a node of one set gives a new one-element array each time. */
  get rrsets(): RRset[] {
    const s = this.sets as RRset | RRset[];
    return Array.isArray(s) ? s : [s];
  }

  /** How many RRsets the node has (`rrsets.length` without building an array). */
  get rrsetCount(): number {
    const s = this.sets as RRset | RRset[];
    return Array.isArray(s) ? s.length : 1;
  }

  /** The i-th RRset in ascending type order (`rrsets[i]` without building an array). */
  rrsetAt(i: number): RRset {
    const s = this.sets as RRset | RRset[];
    return Array.isArray(s) ? s[i]! : s;
  }

  /** Adds a set of a type the node does not have yet, in type order. */
  addRRset(set: RRset): void {
    const s = this.sets as RRset | RRset[];
    if (Array.isArray(s) && s.length === 0) this.sets = set;
    else this.sets = insertSorted(Array.isArray(s) ? s : [s], set);
  }

  /** Puts `next` where `prev` was. */
  replaceRRset(prev: RRset, next: RRset): void {
    const s = this.sets as RRset | RRset[];
    if (s === prev) this.sets = next;
    else if (Array.isArray(s)) this.sets = s.map((x) => (x === prev ? next : x));
  }

  get isEmptyNonTerminal(): boolean {
    const s = this.sets;
    return Array.isArray(s) && s.length === 0;
  }

  get isDelegation(): boolean {
    return (this.flags & NodeFlag.DELEGATION) !== 0;
  }

  /** True when this node's data is authoritative: not below a cut or DNAME and not a cut itself. */
  get isAuthoritative(): boolean {
    return this.above === undefined && (this.flags & NodeFlag.DELEGATION) === 0;
  }

  getRRset(type: number): RRset | undefined {
    const sets = this.sets as RRset | RRset[];
    if (!Array.isArray(sets)) return sets.type === type ? sets : undefined;
    for (let i = 0; i < sets.length; i++) if (sets[i]!.type === type) return sets[i];
    return undefined;
  }
}

/**
 * A node whose one RRset is a packed one-record set (see PackedRRset) held in the node itself:
 * the node is that RRset too (`rrsetAt(0) === node`). Most names of a large zone own exactly one
 * record, and this spares each of them one heap object (64 bytes) for 16 bytes more on the
 * node: the RDATA sits in the node's `sets` field, the set's `additional` and `sigs` in its
 * `extra` (NodeLinks), and only type, class and TTL take fields of their own. At a million
 * such nodes each field is 8 MB for the collector to copy while the zone loads.
 *
 * When the builder gives the node a second set, or a second record for its own (an ordinary set
 * in the packed one's place), the node stops being a set: `sets` then holds the sets as in any
 * node (its own one moved into a PackedRRset), the TTL field says UNPACKED, and the node's own
 * set fields are unused. That happens only while the tree is built, before anything keeps a
 * reference to the node as a set.
 */
class PackedNode extends ZoneNode implements RRset {
  /** See packedKind. */
  private readonly kind: number;
  /** The set's TTL, or UNPACKED. */
  private ownTtl: number;

  constructor(name: Name, type: number, cls: number, ttl: number, packed: Packed) {
    super(name);
    this.kind = packedKind(type, cls);
    this.ownTtl = ttl;
    this.sets = packed;
  }

  /** The node is its own (only) set. */
  get isOwnSet(): boolean {
    return this.ownTtl !== UNPACKED;
  }

  get type(): number {
    return this.kind & 0xffff;
  }

  get class(): number {
    return this.kind >>> 16;
  }

  get ttl(): number {
    return this.ownTtl;
  }

  get records(): readonly ResourceRecord[] {
    return packedRecords(this.name, this.kind, this.ownTtl, this.sets as Packed);
  }

  /** Holds `name` in place of the target Name it holds (sharePackedTarget checks that it does). */
  shareTarget(name: Name): void {
    this.sets = name;
  }

  /** The RDATA as held (see packedForm). */
  get held(): Packed {
    return this.sets as Packed;
  }

  get additional(): readonly RRset[] | undefined {
    return this.ownAdditional;
  }

  set additional(v: readonly RRset[] | undefined) {
    this.extra = nodeLinks(this.above, this.wild, v, this.ownSigs);
  }

  get sigs(): readonly ResourceRecord[] | undefined {
    return this.ownSigs;
  }

  set sigs(v: readonly ResourceRecord[] | undefined) {
    this.extra = nodeLinks(this.above, this.wild, this.ownAdditional, v);
  }

  /** Stops being a set: the node's sets become `sets` (its own set no longer among them). */
  private unpack(sets: RRset | RRset[]): void {
    this.ownTtl = UNPACKED;
    this.sets = sets;
  }

  override get rrsets(): RRset[] {
    return this.isOwnSet ? [this] : super.rrsets;
  }

  override get rrsetCount(): number {
    return this.isOwnSet ? 1 : super.rrsetCount;
  }

  override rrsetAt(i: number): RRset {
    return this.isOwnSet ? this : super.rrsetAt(i);
  }

  override addRRset(set: RRset): void {
    if (!this.isOwnSet) return super.addRRset(set);
    // Its own set moves into a set object of its own, beside the new one. Only the builder adds
    // sets, before compile() links any, so there are no `additional` or `sigs` to move.
    const own = new PackedRRset(this.name, this.type, this.class, this.ownTtl, this.sets as Packed);
    this.unpack(insertSorted([own], set));
  }

  override replaceRRset(prev: RRset, next: RRset): void {
    if (!this.isOwnSet) return super.replaceRRset(prev, next);
    if (prev === this) this.unpack(next);
  }

  override get isEmptyNonTerminal(): boolean {
    return this.isOwnSet ? false : super.isEmptyNonTerminal;
  }

  override getRRset(type: number): RRset | undefined {
    if (this.isOwnSet) return (this.kind & 0xffff) === type ? this : undefined;
    return super.getRRset(type);
  }
}

/**
 * The nodes by name: an open-addressing hash table (linear probing, at most 3/4 full) of
 * positions in a plain list of the nodes. Names are hashed from their labels (lower-cased,
 * root first), not from `Name.key`, so a zone's million names never build their key strings;
 * each slot keeps its name's hash beside it, so a probe compares a number and follows a node
 * only on a hash match (a miss at 3/4 load would otherwise touch several nodes, each a cache
 * miss). At a million names it takes well under half of a Map's memory and grows without
 * rehashing a name. The slots are typed arrays: a large `new Array(n)` would get slow
 * dictionary elements.
 */
export class NodeTable {
  /** Nodes in insertion order. */
  private list: ZoneNode[] = [];
  /** 0: empty; else 1 + the node's position in `list` (after `freeze`, below the hash's top byte). */
  private slots: Int32Array;
  /**
   * The hash of the name in the same slot, while the table is built. `freeze` drops it and keeps
   * the hash's top byte in the slot instead (position in the low 24 bits), which still spares
   * nearly every probe a visit to a node for 4 bytes a slot less.
   */
  private hashes: Int32Array | undefined;
  private mask: number;
  /** A name whose hash is known (the origin): hashing a name below it stops there. */
  private baseName: Name | undefined = undefined;
  private baseHash = 0;
  /**
   * Where the last lookup of hash `missHash` found an empty slot while the table is built: the
   * builder adds a node right after it failed to find it, and `set` then places it there
   * without probing again.
   */
  private missSlot = -1;
  private missHash = 0;
  private frozen = false;
  /** What `touch` read, kept so that its reads are not optimised away. */
  private touched = 0;

  /**
   * `expected`: about how many names will be added, so a large zone's table is allocated once
   * instead of doubling (and re-placing every name) some twenty times.
   */
  constructor(expected = 0) {
    let size = 1024;
    while (size * 3 < expected * 4) size *= 2;
    this.slots = new Int32Array(size);
    this.hashes = new Int32Array(size);
    this.mask = size - 1;
  }

  get size(): number {
    return this.list.length;
  }

  /** The hash of `name` (see nameHash), reusing the base name's. */
  hash(name: Name): number {
    return this.hashBelow(name, name.labelCount - (this.baseName?.labelCount ?? 0));
  }

  private hashBelow(name: Name, depth: number): number {
    if (depth === 0 && name === this.baseName) return this.baseHash;
    if (name.labelCount === 0) return ROOT_HASH;
    return labelHash(this.hashBelow(name.parent(), depth - 1), name.firstLabel);
  }

  get(name: Name): ZoneNode | undefined {
    return this.getHashed(name, this.hash(name));
  }

  /** `get` for a name whose hash is already known. */
  getHashed(name: Name, h: number): ZoneNode | undefined {
    const slots = this.slots;
    const hashes = this.hashes;
    const mask = this.mask;
    if (hashes) {
      for (let i = spreadHash(h) & mask; ; i = (i + 1) & mask) {
        const at = slots[i]!;
        if (at === 0) {
          this.missSlot = i;
          this.missHash = h;
          return undefined;
        }
        if (hashes[i] === h) {
          const n = this.list[at - 1]!;
          if (n.name === name || n.name.equals(name)) return n;
        }
      }
    }
    const top = h >>> 24;
    for (let i = spreadHash(h) & mask; ; i = (i + 1) & mask) {
      const v = slots[i]!;
      if (v === 0) return undefined;
      if (v >>> 24 === top) {
        const n = this.list[(v & POSITION) - 1]!;
        if (n.name === name || n.name.equals(name)) return n;
      }
    }
  }

  /**
   * Reads the home slot (and its hash) of each of the first `count` hashes and forgets what it
   * read. At a million names the table is far larger than the caches, so a lookup's first probe
   * is a miss to memory; a tight loop of independent reads lets the processor wait for many of
   * them at once, and the lookups that follow find their slots cached (see ZoneBuilder.prefetch).
   */
  touch(hashes: Int32Array, count: number): void {
    const slots = this.slots;
    const own = this.hashes;
    const mask = this.mask;
    let sink = 0;
    for (let k = 0; k < count; k++) {
      const i = spreadHash(hashes[k]!) & mask;
      sink ^= slots[i]!;
      if (own) sink ^= own[i]!;
    }
    this.touched = sink;
  }

  /** Adds a node whose name is not in the table yet; `h` is its name's hash if known. */
  set(node: ZoneNode, h = this.hash(node.name)): void {
    if (this.frozen) throw new Error('NodeTable: set() after freeze()');
    if (this.list.length === 0 && this.baseName === undefined) {
      this.baseName = node.name;
      this.baseHash = h;
    }
    if ((this.list.length + 1) * 4 > this.slots.length * 3) this.grow();
    this.list.push(node);
    const at = this.missSlot;
    this.missSlot = -1;
    if (at >= 0 && this.missHash === h && this.slots[at] === 0) {
      this.slots[at] = this.list.length;
      this.hashes![at] = h;
    } else this.place(h, this.list.length);
  }

  values(): IterableIterator<ZoneNode> {
    return this.list.values();
  }

  /** The nodes as the table holds them (insertion order until `reorder`); not to be changed. */
  nodeList(): readonly ZoneNode[] {
    return this.list;
  }

  /**
   * Ends the building: no more `set`. Up to 2^24 - 1 nodes a slot then keeps the hash's top byte
   * above the position and the hash array goes; a larger table keeps its hash array.
   */
  freeze(): void {
    if (this.frozen) throw new Error('NodeTable: freeze() called twice');
    this.frozen = true;
    this.missSlot = -1;
    const slots = this.slots;
    const hashes = this.hashes!;
    if (this.list.length >= POSITION) return;
    for (let i = 0; i < slots.length; i++) if (slots[i] !== 0) slots[i] = ((hashes[i]! >>> 24) << 24) | slots[i]!;
    this.hashes = undefined;
  }

  /**
   * Makes `nodes` (every node of a frozen table, in another order) the table's list, so a zone
   * holds one array of its nodes, not two. `rank[i]` is the new position of the node at
   * position i of the current list: the slots are renumbered from it without visiting a node.
   */
  reorder(nodes: ZoneNode[], rank: Int32Array): void {
    if (!this.frozen) throw new Error('NodeTable: reorder() before freeze()');
    if (nodes.length !== this.list.length || rank.length !== nodes.length) throw new Error('NodeTable.reorder: not the same nodes');
    const slots = this.slots;
    if (this.hashes) {
      for (let i = 0; i < slots.length; i++) if (slots[i] !== 0) slots[i] = rank[slots[i]! - 1]! + 1;
    } else {
      for (let i = 0; i < slots.length; i++) {
        const v = slots[i]!;
        if (v !== 0) slots[i] = ((v >>> 24) << 24) | (rank[(v & POSITION) - 1]! + 1);
      }
    }
    this.list = nodes;
  }

  private place(h: number, at: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = spreadHash(h) & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = at;
    this.hashes![i] = h;
  }

  private grow(): void {
    this.missSlot = -1;
    const oldSlots = this.slots;
    const oldHashes = this.hashes!;
    this.slots = new Int32Array(oldSlots.length * 2);
    this.hashes = new Int32Array(oldSlots.length * 2);
    this.mask = this.slots.length - 1;
    for (let i = 0; i < oldSlots.length; i++) if (oldSlots[i] !== 0) this.place(oldHashes[i]!, oldSlots[i]!);
  }
}

const ROOT_HASH = 0x811c9dc5 | 0;
/** The position bits of a slot after `freeze`. */
const POSITION = 0xffffff;

/**
 * FNV-1a of a child name from its parent's hash: a separator, then the label's octets with
 * ASCII letters lower-cased (RFC 4343), so equal names in any case hash alike.
 */
function labelHash(parent: number, label: string): number {
  let h = Math.imul(parent ^ 0x2e, 0x01000193);
  for (let i = 0; i < label.length; i++) {
    let c = label.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c += 32;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h;
}

/**
 * Spreads FNV's weak low bits over the slot index (murmur3's finaliser); the authoritative
 * step's answer table uses it too.
 */
export function spreadHash(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Where a name falls in the tree: the deepest existing node at or above it. */
export interface Encloser {
  readonly node: ZoneNode;
  /** The node is the name itself. */
  readonly exact: boolean;
}

export class ZoneBuildError extends Error {
  constructor(origin: Name, reason: string) {
    super(`zone ${origin}: ${reason}`);
    this.name = 'ZoneBuildError';
  }
}

/** Scratch for closestEncloser (names have at most 127 labels); emptied after each use. */
const SCRATCH: Name[] = new Array<Name>(128).fill(Name.root);
const SCRATCH_HASHES = new Int32Array(128);

/** Immutable compiled zone. Build with buildZone(). */
export class Zone {
  readonly soa: ResourceRecord<SoaData>;
  /** The SOA as it goes into negative answers: TTL = min(SOA TTL, MINIMUM) (RFC 2308 §5). */
  readonly negativeSoa: ResourceRecord<SoaData>;
  readonly class: number;
  readonly apex: ZoneNode;
  /** The RRSIGs of the SOA, with the negative TTL, for DO negative answers (RFC 4035 §3.1.3). */
  readonly negativeSoaSigs: readonly ResourceRecord[];
  /**
   * The zone is signed: its apex has a DNSKEY RRset or some name has RRSIGs. Only a signed zone
   * adds DS to referrals with DO (RFC 4035 §3.1.4.1), as NSD and Knot do.
   */
  readonly signed: boolean;
  /** The node table's list is in canonical order (see `nodes`). */
  private ordered = false;

  /** @internal use buildZone() */
  constructor(
    readonly origin: Name,
    private readonly byKey: NodeTable,
    readonly recordCount: number,
  ) {
    this.apex = byKey.get(origin)!;
    const soaSet = this.apex.getRRset(RRType.SOA)!;
    this.soa = soaSet.records[0]!;
    this.class = this.soa.class;
    const min = Math.min(this.soa.ttl, this.soa.data.minimum);
    this.negativeSoa = min === this.soa.ttl ? this.soa : { ...this.soa, ttl: min };
    // RFC 4035 §2.2: an RRSIG's TTL equals its RRset's, so the SOA's signatures take the negative TTL too.
    const sigs = soaSet.sigs ?? [];
    this.negativeSoaSigs = sigs.map((rr) => (rr.ttl === min ? rr : { ...rr, ttl: min }));
    this.signed = this.apex.getRRset(RRType.DNSKEY) !== undefined || byKey.nodeList().some((n) => n.getRRset(RRType.RRSIG) !== undefined);
  }

  /**
   * Nodes in canonical order (RFC 4034 §6.1); the apex first. Sorted the first time they are
   * asked for (a transfer, signing, NSEC chains, printing): answering never needs the order, and
   * a large zone serves sooner without it. `prepareOrder` sorts in slices beforehand.
   */
  get nodes(): readonly ZoneNode[] {
    if (!this.ordered) this.applyOrder(canonicalOrder(this.byKey.nodeList()));
    return this.byKey.nodeList();
  }

  /** The nodes are in canonical order already: reading `nodes` costs nothing. */
  get sorted(): boolean {
    return this.ordered;
  }

  /** Every node, in no particular order: for a pass that does not care (checks, counts). */
  get unorderedNodes(): readonly ZoneNode[] {
    return this.byKey.nodeList();
  }

  /**
   * Puts the nodes in canonical order in slices, awaiting `pause` between them, so `nodes`
   * later costs nothing. The server calls it once a loaded zone is serving.
   */
  async prepareOrder(pause: () => Promise<void>): Promise<void> {
    if (this.ordered) return;
    const steps = canonicalOrderSteps(this.byKey.nodeList());
    for (;;) {
      const r = steps.next();
      if (r.done) return this.applyOrder(r.value);
      await pause();
      if (this.ordered) return; // someone asked for `nodes` meanwhile
    }
  }

  private applyOrder(order: CanonicalOrder): void {
    this.byKey.reorder(order.nodes, order.rank);
    this.ordered = true;
  }

  get serial(): number {
    return this.soa.data.serial;
  }

  get nodeCount(): number {
    return this.byKey.size;
  }

  /** The node of exactly this name (an empty non-terminal counts), or undefined. */
  getNode(name: Name): ZoneNode | undefined {
    return this.byKey.get(name);
  }

  /** True when `name` is the origin or below it. */
  contains(name: Name): boolean {
    return name.isSubdomainOf(this.origin);
  }

  /**
   * The closest encloser of `name` (RFC 4592 §3.3.1): the deepest existing node at or above it.
   * Undefined only when `name` is outside the zone. Does not look at cuts; lookup() does.
   */
  closestEncloser(name: Name): Encloser | undefined {
    if (!name.isSubdomainOf(this.origin)) return undefined;
    const depth = name.labelCount - this.origin.labelCount;
    if (depth === 0) return { node: this.apex, exact: true };
    // The names from just below the origin down to `name`, then their hashes root first (one
    // walk), then bottom-up lookups: an exact hit costs one probe; the apex always exists.
    const chain = depth <= SCRATCH.length ? SCRATCH : new Array<Name>(depth);
    const hashes = depth <= SCRATCH_HASHES.length ? SCRATCH_HASHES : new Int32Array(depth);
    let n = name;
    for (let i = depth - 1; i >= 0; i--, n = n.parent()) chain[i] = n;
    let h = this.byKey.hash(this.origin);
    for (let i = 0; i < depth; i++) hashes[i] = h = labelHash(h, chain[i]!.firstLabel);
    for (let i = depth - 1; i >= 0; i--) {
      const node = this.byKey.getHashed(chain[i]!, hashes[i]!);
      if (node) {
        chain.fill(Name.root, 0, Math.min(depth, SCRATCH.length));
        return { node, exact: i === depth - 1 };
      }
    }
    chain.fill(Name.root, 0, Math.min(depth, SCRATCH.length));
    return { node: this.apex, exact: false };
  }

  /** Every RRset in canonical name order, types ascending within a name. */
  *rrsets(): IterableIterator<RRset> {
    for (const node of this.nodes) for (let k = 0; k < node.rrsetCount; k++) yield node.rrsetAt(k);
  }

  /**
   * Every record in canonical name order (for AXFR and printing). Plain loops, no `yield*`: a
   * delegated generator per node and per set was a tenth of a million-record transfer.
   */
  *records(): IterableIterator<ResourceRecord> {
    const nodes = this.nodes;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i]!;
      for (let k = 0; k < node.rrsetCount; k++) {
        const records = node.rrsetAt(k).records;
        for (let j = 0; j < records.length; j++) yield records[j]!;
      }
    }
  }

  [Symbol.iterator](): IterableIterator<ResourceRecord> {
    return this.records();
  }
}

/**
 * Canonical keys of `name` and its ancestors: result[i] is the key of name.parent(i), for the
 * first `count` of them. Slices of one string when the name has no escapes (the common case).
 */
export function ancestorKeys(name: Name, count = name.labelCount + 1): string[] {
  const key = name.key;
  const out: string[] = [];
  if (count <= 0) return out;
  if (key.indexOf('\\') < 0) {
    let pos = 0;
    out.push(key);
    while (out.length < count) {
      const dot = key.indexOf('.', pos);
      if (dot < 0 || dot === key.length - 1) {
        out.push('.');
        break;
      }
      pos = dot + 1;
      out.push(key.slice(pos));
    }
    return out;
  }
  for (let i = 0; i < count && i <= name.labelCount; i++) out.push(name.parent(i).key);
  return out;
}

/** Per-build scratch state, dropped after the build. */
interface SetBuilder {
  set: RRset;
  records: ResourceRecord[];
  /** Canonical RDATA of the set's records, created when a second record arrives (dedup). */
  seen: Set<string>;
}

/** What ZoneBuilder did with a record it did not load exactly as given. */
export type RecordEvent =
  /** Not at or below the origin: dropped (only with `outside: 'skip'`). */
  | 'outside'
  /** Same owner, type and canonical RDATA as a record already loaded: dropped (RFC 2181 §5). */
  | 'duplicate'
  /** Its TTL differs from its RRset's: loaded with the set's TTL (RFC 2181 §5.2). */
  | 'ttl';

export interface ZoneBuilderOptions {
  /** Records outside the zone: `throw` a ZoneBuildError (the default) or `skip` them. */
  readonly outside?: 'throw' | 'skip';
  /**
   * Told about every record not loaded as given, in the order they were added (what
   * `checkBuiltZone` reports as OUT_OF_ZONE, DUPLICATE and TTL_MISMATCH). `ttl` is the RRset's.
   */
  readonly onRecord?: (event: RecordEvent, rr: ResourceRecord, ttl: number) => void;
  /** About how many names the zone will have (its node table is sized for them at once). */
  readonly expectedNames?: number;
  /**
   * Keep one-record sets (but RRSIG, NSEC and NSEC3) packed (PackedRRset, PackedNode): far fewer
   * objects for a large zone, but such a set's record is built anew on
   * each read, so a caller that finds records' positions by identity (RecordPositions,
   * `recordPosition`) must leave this off. A loader that keeps no records of its own
   * (`loadZoneFile`) turns it on.
   */
  readonly pack?: boolean;
}

/**
 * Builds a zone tree record by record, so a loader can stream a zone file into it without an
 * array of every record: `add(rr)` for each record, then `finish()` once. The tree keeps the
 * records it is given (or copies sharing their `data` where the owner Name or TTL differs).
 */
export class ZoneBuilder {
  private byKey: NodeTable | undefined;
  private builders = new Map<RRset, SetBuilder>();
  private readonly apex: ZoneNode;
  private readonly originDepth: number;
  private cls = -1;
  private added = 0;
  private lastName: Name | undefined = undefined;
  private lastNode: ZoneNode | undefined = undefined;
  private readonly parents: ParentCache = { name: undefined, node: undefined };
  /** Owner names of the last `prefetch`ed batch, one per run of records sharing one Name. */
  private preNames: Name[] = [];
  /** Their hashes; `preAt` is the next one `add` may use. */
  private preHashes = new Int32Array(0);
  private preAt = 0;

  constructor(readonly origin: Name, private readonly options: ZoneBuilderOptions = {}) {
    this.byKey = new NodeTable(options.expectedNames ?? 0);
    this.apex = new ZoneNode(origin);
    this.byKey!.set(this.apex);
    this.originDepth = origin.labelCount;
  }

  /** Records loaded so far (duplicates and skipped records not counted). */
  get count(): number {
    return this.added;
  }

  /**
   * Prepares to `add` `records`, in this order: hashes their owner names and reads the node
   * table's slots for them in one tight loop (NodeTable.touch), so that the lookups `add` makes
   * find them in the cache instead of each waiting for memory. Optional; `add` works without it,
   * and records added out of this order only lose the head start.
   */
  prefetch(records: readonly ResourceRecord[]): void {
    const byKey = this.byKey;
    if (!byKey) return;
    const names = this.preNames;
    names.length = 0;
    let last: Name | undefined = this.lastName;
    for (let i = 0; i < records.length; i++) {
      const name = records[i]!.name;
      if (name !== last) names.push((last = name));
    }
    if (this.preHashes.length < names.length) this.preHashes = new Int32Array(Math.max(names.length, 1024));
    const hashes = this.preHashes;
    for (let i = 0; i < names.length; i++) hashes[i] = byKey.hash(names[i]!);
    byKey.touch(hashes, names.length);
    this.preAt = 0;
  }

  /** The hash of `name` (a new owner): the prefetched one when it is next in line, else computed. */
  private ownerHash(byKey: NodeTable, name: Name): number {
    // In the prefetched order every owner looked up is the next name in line (a skipped
    // out-of-zone record steps over its own in `add`); any other comes without a head start.
    if (this.preNames[this.preAt] !== name) return byKey.hash(name);
    return this.preHashes[this.preAt++]!;
  }

  /**
   * Adds one record. Returns false when it was not loaded (a duplicate, or outside the zone
   * with `outside: 'skip'`). Throws ZoneBuildError for a record outside the zone (by default),
   * of a meta type (OPT, ANY, ...) or of another class than the first record's.
   */
  add(rr: ResourceRecord): boolean {
    const byKey = this.byKey;
    if (!byKey) throw new Error('ZoneBuilder: add() after finish()');
    const origin = this.origin;
    if (!rr.name.isSubdomainOf(origin)) {
      if (this.options.outside !== 'skip') throw new ZoneBuildError(origin, `record outside the zone: ${recordToText(rr)}`);
      this.options.onRecord?.('outside', rr, rr.ttl);
      if (this.preNames[this.preAt] === rr.name) this.preAt++; // its prefetched hash goes unused
      return false;
    }
    if (isMetaType(rr.type)) throw new ZoneBuildError(origin, `meta type ${typeToString(rr.type)} cannot be zone data: ${recordToText(rr)}`);
    if (this.cls < 0) this.cls = rr.class;
    else if (rr.class !== this.cls) throw new ZoneBuildError(origin, `record class differs from the zone's: ${recordToText(rr)}`);
    // Consecutive records usually share their owner Name object (the parser reuses it).
    let node = this.lastNode;
    if (rr.name !== this.lastName || !node) {
      const before = byKey.size;
      node = nodeFor(byKey, rr.name, this.ownerHash(byKey, rr.name), this.originDepth, this.parents, this.options.pack ? rr : undefined);
      this.lastName = rr.name;
      this.lastNode = node;
      // A new PackedNode already holds this record (nodeFor adds the owner's node first).
      if (node instanceof PackedNode && byKey.nodeList()[before] === node) {
        this.added++;
        return true;
      }
    }
    if (!this.addRecord(node, rr)) return false;
    this.added++;
    return true;
  }

  /** Compiles the tree into a Zone. Throws ZoneBuildError when there is no SOA or more than one. */
  finish(): Zone {
    const byKey = this.seal();
    compile(this.origin, byKey);
    byKey.freeze();
    return new Zone(this.origin, byKey, this.added);
  }

  /** `finish` in slices with `pause` awaited between them (large zones on a serving process). */
  async finishAsync(pause: () => Promise<void>): Promise<Zone> {
    const byKey = this.seal();
    await compileAsync(this.origin, byKey, pause);
    byKey.freeze();
    return new Zone(this.origin, byKey, this.added);
  }

  /** Checks the apex SOA and ends the building phase; returns the node table to compile. */
  private seal(): NodeTable {
    const byKey = this.byKey;
    if (!byKey) throw new Error('ZoneBuilder: finish() called twice');
    const origin = this.origin;
    const soaSet = this.apex.getRRset(RRType.SOA);
    if (!soaSet) throw new ZoneBuildError(origin, 'no SOA record at the apex');
    if (soaSet.records.length > 1) throw new ZoneBuildError(origin, `${soaSet.records.length} SOA records at the apex (exactly one allowed)`);
    this.byKey = undefined;
    this.lastName = this.lastNode = this.parents.name = this.parents.node = undefined;
    this.preNames = [];
    // Sets that grew by push hold spare capacity: keep exact-size copies.
    for (const b of this.builders.values()) (b.set as ZoneRRset).hold(b.records.slice());
    this.builders = new Map();
    return byKey;
  }

  private addRecord(node: ZoneNode, rr: ResourceRecord): boolean {
    let set = node.getRRset(rr.type);
    // Share one Name object per owner and one TTL per set: fewer objects and RFC 2181 §5.2.
    if (!set) {
      const packed = this.options.pack ? packRdata(rr.type, rr.data) : undefined;
      if (packed !== undefined) set = new PackedRRset(node.name, rr.type, rr.class, rr.ttl, packed);
      else set = new ZoneRRset(rr.name === node.name ? rr : { name: node.name, type: rr.type, class: rr.class, ttl: rr.ttl, data: rr.data });
      node.addRRset(set);
      return true;
    }
    let b = this.builders.get(set);
    if (!b) {
      const records = set.records.slice();
      if (asPacked(set)) {
        // A second record: the set becomes an ordinary one, in the packed one's place.
        const full = new ZoneRRset(records);
        node.replaceRRset(set, full);
        set = full;
      }
      b = { set, records, seen: new Set([rdataKey(records[0]!)]) };
      (set as ZoneRRset).hold(records);
      this.builders.set(set, b);
    }
    const k = rdataKey(rr);
    if (b.seen.has(k)) {
      this.options.onRecord?.('duplicate', rr, set.ttl);
      return false;
    }
    b.seen.add(k);
    // RRSIGs at one owner cover different RRsets and keep their own TTLs (each equals the TTL of
    // the set it covers, RFC 4034 §3; RFC 2181 §5.2 makes the same exception for SIG).
    const ttl = rr.type === RRType.RRSIG ? rr.ttl : set.ttl;
    if (rr.ttl !== ttl) this.options.onRecord?.('ttl', rr, ttl);
    b.records.push(rr.name === node.name && rr.ttl === ttl ? rr : { name: node.name, type: rr.type, class: rr.class, ttl, data: rr.data });
    return true;
  }
}

/**
 * Builds the zone tree for `origin` from `records` and compiles it (a ZoneBuilder fed every
 * record).
 *
 * Throws ZoneBuildError when there is no SOA at the apex, when a record is outside the zone, has
 * a meta type (OPT, ANY, ...) or a class other than the SOA's. Duplicate records are dropped
 * (RFC 2181 §5); an RRset takes the TTL of its first record.
 */
export function buildZone(origin: Name, records: Iterable<ResourceRecord>): Zone {
  const builder = new ZoneBuilder(origin);
  for (const rr of records) builder.add(rr);
  return builder.finish();
}

/** The last parent looked up by Name object: names parsed relative to one origin share it. */
interface ParentCache {
  name: Name | undefined;
  node: ZoneNode | undefined;
}

/**
 * The node of `name`, created with any missing ancestors (empty non-terminals) on the way and
 * linked to its parent. A parent is found by its Name object first (`parents`: most owners
 * share their parent object with the previous one), else by a table lookup, so walking up
 * allocates nothing until an ancestor is actually missing. A node created for `first`, a record
 * whose RDATA packs, is a PackedNode holding that record (the caller then has nothing to add).
 * `h` is the hash of `name` (NodeTable.hash).
 */
function nodeFor(byKey: NodeTable, name: Name, h: number, originDepth: number, parents: ParentCache, first?: ResourceRecord): ZoneNode {
  const found = byKey.getHashed(name, h);
  if (found) return found;
  const packed = first === undefined ? undefined : packRdata(first.type, first.data);
  // A TTL of UNPACKED (-1, no real TTL) would read as a node that is not its own set.
  const node = packed === undefined || first!.ttl === UNPACKED ? new ZoneNode(name) : new PackedNode(name, first!.type, first!.class, first!.ttl, packed);
  byKey.set(node, h);
  let child: ZoneNode = node;
  while (child.name.labelCount > originDepth) {
    const up = child.name.parent();
    if (up === parents.name && parents.node) {
      child.parent = parents.node;
      break;
    }
    const hu = byKey.hash(up);
    const existing = byKey.getHashed(up, hu);
    if (existing) {
      child.parent = existing;
      parents.name = up;
      parents.node = existing;
      break;
    }
    const created = new ZoneNode(up);
    byKey.set(created, hu);
    child.parent = created;
    child = created;
  }
  return node;
}

/**
 * A new array with `set` in type order. Exact-size arrays on purpose: growing an empty array by
 * push/splice reserves 17 slots, which across a million nodes is most of the tree's memory.
 */
function insertSorted(sets: RRset[], set: RRset): RRset[] {
  if (sets.length === 0) return [set];
  let i = sets.length;
  while (i > 0 && sets[i - 1]!.type > set.type) i--;
  return sets.slice(0, i).concat([set], sets.slice(i));
}

/** Identity of a record's data for duplicate detection: canonical RDATA bytes (RFC 4034 §6.2). */
function rdataKey(rr: ResourceRecord): string {
  const bytes = rr.data instanceof Uint8Array ? rr.data : encodeRdata(rr.type, rr.data, true);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
