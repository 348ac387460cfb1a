import { encodeRdata, Name, RRType, typeToString, type ResourceRecord } from '../wire/index.js';
import { recordPosition, type SourcePosition } from './parser.js';

/** One finding of `checkZone`. `code` is stable (tests and tools match on it). */
export interface ZoneFinding {
  readonly code: string;
  readonly message: string;
  readonly name: Name;
  readonly type?: number;
  readonly position?: SourcePosition;
}

export interface ZoneCheckResult {
  readonly errors: ZoneFinding[];
  readonly warnings: ZoneFinding[];
  /** The records to load: duplicates collapsed, out-of-zone data dropped, RRset TTLs unified. */
  readonly records: ResourceRecord[];
  /** The SOA serial when there is exactly one SOA at the apex. */
  readonly serial?: number;
}

/** `FILE:LINE:COL: message` when the record's position is known, else `NAME/TYPE: message`. */
export function findingText(f: ZoneFinding): string {
  if (f.position && f.position.line) return `${f.position.file || '<input>'}:${f.position.line}:${f.position.col}: ${f.message}`;
  return `${f.name}${f.type !== undefined ? '/' + typeToString(f.type) : ''}: ${f.message}`;
}

interface Node {
  readonly name: Name;
  readonly sets: Map<number, ResourceRecord[]>;
}

// Types that may share a name with a CNAME (RFC 2181 §10.1, RFC 4035 §2.5 and RFC 3007 KEY).
const CNAME_COMPANIONS = new Set<number>([RRType.CNAME, RRType.RRSIG, RRType.NSEC, RRType.KEY]);
// What a delegation point legitimately holds; address records there serve as glue.
const AT_CUT = new Set<number>([RRType.NS, RRType.DS, RRType.NSEC, RRType.RRSIG, RRType.A, RRType.AAAA]);

function rdataKey(rr: ResourceRecord): string {
  const bytes = rr.data instanceof Uint8Array ? rr.data : encodeRdata(rr.type, rr.data, true);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/**
 * Semantic checks of a zone's records, like `named-checkzone` and `kzonecheck` (without the
 * DNSSEC ones). Errors make the zone unloadable; warnings do not.
 */
export function checkZone(origin: Name, records: Iterable<ResourceRecord>): ZoneCheckResult {
  const errors: ZoneFinding[] = [];
  const warnings: ZoneFinding[] = [];
  const add = (list: ZoneFinding[], code: string, rr: ResourceRecord | undefined, name: Name, message: string, type?: number): void => {
    const position = rr ? recordPosition(rr) : undefined;
    list.push({ code, message, name, ...(type !== undefined ? { type } : {}), ...(position ? { position } : {}) });
  };

  // Group by owner and type, collapsing duplicates and dropping out-of-zone data. RRsets are
  // small, so a duplicate is found by comparing with the set's members; the canonical RDATA
  // bytes are computed only when a set gets a second member (most sets have one).
  const nodes = new Map<string, Node>();
  const wire = new Map<ResourceRecord, string>();
  const keyOf = (rr: ResourceRecord): string => {
    let k = wire.get(rr);
    if (k === undefined) {
      k = rdataKey(rr);
      wire.set(rr, k);
    }
    return k;
  };
  for (const rr of records) {
    if (!rr.name.isSubdomainOf(origin)) {
      add(warnings, 'OUT_OF_ZONE', rr, rr.name, `ignoring out-of-zone data ${rr.name} (not below ${origin})`, rr.type);
      continue;
    }
    const key = rr.name.key;
    let node = nodes.get(key);
    if (!node) {
      node = { name: rr.name, sets: new Map() };
      nodes.set(key, node);
    }
    const set = node.sets.get(rr.type);
    if (!set) {
      node.sets.set(rr.type, [rr]);
      continue;
    }
    const rk = keyOf(rr);
    if (set.some((x) => keyOf(x) === rk)) {
      add(warnings, 'DUPLICATE', rr, rr.name, `duplicate ${typeToString(rr.type)} record collapsed`, rr.type);
      continue;
    }
    if (rr.type !== RRType.RRSIG && set[0]!.ttl !== rr.ttl) {
      add(warnings, 'TTL_MISMATCH', rr, rr.name, `TTL ${rr.ttl} differs from ${set[0]!.ttl} of the ${typeToString(rr.type)} RRset; using ${set[0]!.ttl}`, rr.type);
      const fixed = { ...rr, ttl: set[0]!.ttl };
      wire.set(fixed, rk);
      set.push(fixed);
    } else set.push(rr);
  }
  wire.clear();

  // SOA and NS at the apex.
  let serial: number | undefined;
  const apex = nodes.get(origin.key);
  const soa = apex?.sets.get(RRType.SOA);
  if (!soa || soa.length === 0) add(errors, 'SOA_MISSING', undefined, origin, `no SOA record at the zone apex ${origin}`, RRType.SOA);
  else if (soa.length > 1) add(errors, 'SOA_MULTIPLE', soa[1], origin, `${soa.length} SOA records at the zone apex: expected exactly one`, RRType.SOA);
  else if (!(soa[0]!.data instanceof Uint8Array)) serial = (soa[0]!.data as { serial: number }).serial;
  if (!apex?.sets.get(RRType.NS)?.length) add(errors, 'NS_APEX', soa?.[0], origin, `no NS records at the zone apex ${origin}`, RRType.NS);
  // DS belongs to the parent side of a cut (RFC 4035 §2.4); at the apex it cannot be served.
  const apexDs = apex?.sets.get(RRType.DS);
  if (apexDs?.length && !origin.isRoot) add(errors, 'DS_APEX', apexDs[0], origin, `DS record at the zone apex ${origin}: it belongs in the parent zone`, RRType.DS);

  // Zone cuts and DNAMEs, to find occluded data.
  const cuts: Name[] = [];
  const dnames: Name[] = [];
  for (const node of nodes.values()) {
    const isApex = node.name.equals(origin);
    if (!isApex && node.sets.has(RRType.SOA)) {
      add(errors, 'SOA_NOT_APEX', node.sets.get(RRType.SOA)![0], node.name, `SOA record at ${node.name}, not at the zone apex`, RRType.SOA);
    }
    if (!isApex && node.sets.has(RRType.NS)) cuts.push(node.name);
    if (node.sets.has(RRType.DNAME)) dnames.push(node.name);
    const cname = node.sets.get(RRType.CNAME);
    if (cname) {
      if (cname.length > 1) add(errors, 'CNAME_MULTIPLE', cname[1], node.name, `multiple CNAME records at ${node.name}`, RRType.CNAME);
      for (const [type, set] of node.sets) {
        if (!CNAME_COMPANIONS.has(type)) {
          add(errors, 'CNAME_EXTRA_RECORDS', set[0], node.name, `CNAME and other data (${typeToString(type)}) at ${node.name}`, type);
        }
      }
    }
    const dname = node.sets.get(RRType.DNAME);
    if (dname) {
      if (dname.length > 1) add(errors, 'DNAME_MULTIPLE', dname[1], node.name, `multiple DNAME records at ${node.name}`, RRType.DNAME);
      if (!isApex && node.sets.has(RRType.NS)) {
        add(errors, 'DNAME_EXTRA_NS', node.sets.get(RRType.NS)![0], node.name, `NS record beside DNAME at ${node.name}`, RRType.NS);
      }
    }
  }
  // Ancestry keys: keys[j] identifies the suffix of j labels (keys[0] the root). Built once per
  // name by prepending labels, so ancestor lookups need no Name objects.
  const oc = origin.labelCount;
  const cutKeys = new Set(cuts.map((n) => ancestry(n).pop()!));
  const dnameKeys = new Set(dnames.map((n) => ancestry(n).pop()!));
  /** Index in `anc` of the closest strict ancestor below the apex that is in `keys` (-1: none). */
  const ancestorIn = (anc: string[], keys: Set<string>): number => {
    if (keys.size === 0) return -1;
    const L = anc.length - 1;
    for (let j = L - 1; j > oc; j--) if (keys.has(anc[j]!)) return j;
    // A DNAME at the apex occludes everything below it.
    if (L > oc && keys.has(anc[oc]!)) return oc;
    return -1;
  };
  const present = new Set<string>();
  const addressed = new Set<string>();
  for (const node of nodes.values()) {
    const anc = ancestry(node.name);
    if (node.sets.has(RRType.A) || node.sets.has(RRType.AAAA)) addressed.add(anc[anc.length - 1]!);
    for (let j = anc.length - 1; j >= oc; j--) {
      if (present.has(anc[j]!)) break;
      present.add(anc[j]!);
    }
  }
  // Ancestry is recomputed below rather than kept: short-lived strings are cheap for the
  // collector, a million long-lived arrays are not.
  for (const node of nodes.values()) {
    const anc = cutKeys.size || dnameKeys.size ? ancestry(node.name) : [];
    if (anc.length === 0) continue;
    const L = anc.length - 1;
    const dn = ancestorIn(anc, dnameKeys);
    if (dn >= 0) {
      const first = node.sets.values().next().value![0]!;
      add(warnings, 'DNAME_CHILDREN', first, node.name, `${node.name} is occluded by the DNAME at ${node.name.parent(L - dn)}`);
      continue;
    }
    const cut = ancestorIn(anc, cutKeys);
    if (cut >= 0) {
      for (const [type, set] of node.sets) {
        if (type !== RRType.A && type !== RRType.AAAA) {
          add(warnings, 'OCCLUDED', set[0], node.name, `${typeToString(type)} at ${node.name} is occluded by the delegation at ${node.name.parent(L - cut)}`, type);
        }
      }
    } else if (cutKeys.has(anc[L]!)) {
      for (const [type, set] of node.sets) {
        if (!AT_CUT.has(type)) {
          add(warnings, 'OCCLUDED', set[0], node.name, `${typeToString(type)} at the delegation point ${node.name} is occluded`, type);
        }
      }
    }
  }

  // Glue: every in-zone NS target needs an address record (or a wildcard that gives one).
  // Errors for apex servers with authoritative names; warnings for glue (named-checkzone still
  // loads those zones).
  const reported = new Set<string>();
  for (const node of nodes.values()) {
    const ns = node.sets.get(RRType.NS);
    if (!ns) continue;
    const anc = ancestry(node.name);
    if (ancestorIn(anc, cutKeys) >= 0 || ancestorIn(anc, dnameKeys) >= 0) continue; // occluded NS
    const isApex = anc.length - 1 === oc;
    for (const rr of ns) {
      if (rr.data instanceof Uint8Array) continue;
      const target = (rr.data as { target: Name }).target;
      if (!target.isSubdomainOf(origin)) continue;
      const tanc = ancestry(target);
      const tkey = tanc[tanc.length - 1]!;
      if (addressed.has(tkey)) continue;
      if (!present.has(tkey) && wildcardAddress(tanc, oc, present, addressed)) continue;
      const k = `${anc[anc.length - 1]} ${tkey}`;
      if (reported.has(k)) continue;
      reported.add(k);
      // As named-checkzone: an apex server whose name is authoritative here must have an
      // address (error); missing glue below a cut only breaks that child (warning).
      const glue = (!isApex && target.isSubdomainOf(node.name)) || ancestorIn(tanc, cutKeys) >= 0 || cutKeys.has(tkey);
      add(isApex && !glue ? errors : warnings, 'NS_GLUE', rr, node.name,
        `missing glue record: NS target ${target} has no ${glue && !isApex ? 'required glue ' : ''}address records (A or AAAA)`, RRType.NS);
    }
  }

  const out: ResourceRecord[] = [];
  for (const node of nodes.values()) for (const set of node.sets.values()) for (const rr of set) out.push(rr);
  return { errors, warnings, records: out, ...(serial !== undefined ? { serial } : {}) };
}

// Labels are Latin-1 strings, so U+0100 can never occur in one: a safe separator.
const SEP = '\u0100';

/** Keys of every suffix of `name`, from the root (index 0) to the name itself. */
function ancestry(name: Name): string[] {
  const lower = name.lowerLabels;
  const out: string[] = [''];
  let k = '';
  for (let i = lower.length - 1; i >= 0; i--) {
    k = lower[i]! + SEP + k;
    out.push(k);
  }
  return out;
}

/** RFC 4592: the wildcard at the closest encloser of a name that does not exist. */
function wildcardAddress(tanc: string[], oc: number, present: Set<string>, addressed: Set<string>): boolean {
  for (let j = tanc.length - 2; j >= oc; j--) {
    if (present.has(tanc[j]!)) return addressed.has('*' + SEP + tanc[j]!);
  }
  return false;
}
