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

  // Group by owner and type, collapsing duplicates and dropping out-of-zone data.
  const nodes = new Map<string, Node>();
  const seen = new Map<string, Set<string>>();
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
    let set = node.sets.get(rr.type);
    if (!set) {
      set = [];
      node.sets.set(rr.type, set);
    }
    const dupKey = `${key}/${rr.type}`;
    let keys = seen.get(dupKey);
    if (!keys) {
      keys = new Set();
      seen.set(dupKey, keys);
    }
    const rk = rdataKey(rr);
    if (keys.has(rk)) {
      add(warnings, 'DUPLICATE', rr, rr.name, `duplicate ${typeToString(rr.type)} record collapsed`, rr.type);
      continue;
    }
    keys.add(rk);
    if (set.length && rr.type !== RRType.RRSIG && set[0]!.ttl !== rr.ttl) {
      add(warnings, 'TTL_MISMATCH', rr, rr.name, `TTL ${rr.ttl} differs from ${set[0]!.ttl} of the ${typeToString(rr.type)} RRset; using ${set[0]!.ttl}`, rr.type);
      set.push({ ...rr, ttl: set[0]!.ttl });
    } else set.push(rr);
  }
  seen.clear();

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
  const cutKeys = new Set(cuts.map((n) => n.key));
  const dnameKeys = new Set(dnames.map((n) => n.key));
  /** The closest strict ancestor of `name` (below the apex) that is in `keys`. */
  const ancestorIn = (name: Name, keys: Set<string>): Name | undefined => {
    if (keys.size === 0) return undefined;
    for (let n = name.labelCount - 1; n > origin.labelCount; n--) {
      const a = name.suffix(n);
      if (keys.has(a.key)) return a;
    }
    // DNAME at the apex occludes everything below it.
    if (keys.has(origin.key) && name.labelCount > origin.labelCount) return origin;
    return undefined;
  };
  for (const node of nodes.values()) {
    const dn = ancestorIn(node.name, dnameKeys);
    if (dn) {
      const first = node.sets.values().next().value![0]!;
      add(warnings, 'DNAME_CHILDREN', first, node.name, `${node.name} is occluded by the DNAME at ${dn}`);
      continue;
    }
    const cut = ancestorIn(node.name, cutKeys);
    if (cut) {
      for (const [type, set] of node.sets) {
        if (type !== RRType.A && type !== RRType.AAAA) {
          add(warnings, 'OCCLUDED', set[0], node.name, `${typeToString(type)} at ${node.name} is occluded by the delegation at ${cut}`, type);
        }
      }
    } else if (cutKeys.has(node.name.key)) {
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
  const present = new Set<string>();
  for (const node of nodes.values()) {
    for (let n = node.name.labelCount; n >= origin.labelCount; n--) {
      const k = node.name.suffix(n).key;
      if (present.has(k)) break;
      present.add(k);
    }
  }
  const hasAddress = (key: string): boolean => {
    const node = nodes.get(key);
    return !!node && (node.sets.has(RRType.A) || node.sets.has(RRType.AAAA));
  };
  const reported = new Set<string>();
  for (const node of nodes.values()) {
    const ns = node.sets.get(RRType.NS);
    if (!ns) continue;
    if (ancestorIn(node.name, cutKeys) || ancestorIn(node.name, dnameKeys)) continue; // occluded NS
    for (const rr of ns) {
      if (rr.data instanceof Uint8Array) continue;
      const target = (rr.data as { target: Name }).target;
      if (!target.isSubdomainOf(origin)) continue;
      if (hasAddress(target.key)) continue;
      if (!present.has(target.key) && wildcardAddress(target, origin, present, hasAddress)) continue;
      const k = `${node.name.key} ${target.key}`;
      if (reported.has(k)) continue;
      reported.add(k);
      // As named-checkzone: an apex server whose name is authoritative here must have an
      // address (error); missing glue below a cut only breaks that child (warning).
      const isApex = node.name.equals(origin);
      const glue = (!isApex && target.isSubdomainOf(node.name)) || !!ancestorIn(target, cutKeys) || cutKeys.has(target.key);
      add(isApex && !glue ? errors : warnings, 'NS_GLUE', rr, node.name,
        `missing glue record: NS target ${target} has no ${glue && !isApex ? 'required glue ' : ''}address records (A or AAAA)`, RRType.NS);
    }
  }

  const out: ResourceRecord[] = [];
  for (const node of nodes.values()) for (const set of node.sets.values()) for (const rr of set) out.push(rr);
  return { errors, warnings, records: out, ...(serial !== undefined ? { serial } : {}) };
}

/** RFC 4592: the wildcard at the closest encloser of a name that does not exist. */
function wildcardAddress(target: Name, origin: Name, present: Set<string>, hasAddress: (key: string) => boolean): boolean {
  for (let n = target.labelCount - 1; n >= origin.labelCount; n--) {
    const encloser = target.suffix(n);
    if (present.has(encloser.key)) return hasAddress(encloser.isRoot ? '*.' : '*.' + encloser.key);
  }
  return false;
}
