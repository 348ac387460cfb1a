import { encodeRdata, Name, RRType, type ResourceRecord } from '../wire/index.js';

/**
 * An editable copy of a zone's records, keyed by owner and type, for dynamic update and for
 * computing differences. A compiled Zone is immutable; changes are made here and a new Zone is
 * built from the result.
 */
export class RecordStore {
  private readonly names = new Map<string, { name: Name; sets: Map<number, ResourceRecord[]> }>();
  private count = 0;

  constructor(records: Iterable<ResourceRecord> = []) {
    for (const rr of records) this.add(rr);
  }

  get size(): number {
    return this.count;
  }

  /** Adds a record; returns false when an identical one (same RDATA) is already there. */
  add(rr: ResourceRecord): boolean {
    let entry = this.names.get(rr.name.key);
    if (!entry) {
      entry = { name: rr.name, sets: new Map() };
      this.names.set(rr.name.key, entry);
    }
    let set = entry.sets.get(rr.type);
    if (!set) {
      set = [];
      entry.sets.set(rr.type, set);
    }
    const key = rdataKey(rr);
    if (set.some((x) => rdataKey(x) === key)) return false;
    set.push(rr);
    this.count++;
    return true;
  }

  /** Removes the record with the same owner, type and RDATA; returns it when found. */
  remove(rr: ResourceRecord): ResourceRecord | undefined {
    const entry = this.names.get(rr.name.key);
    const set = entry?.sets.get(rr.type);
    if (!entry || !set) return undefined;
    const key = rdataKey(rr);
    const i = set.findIndex((x) => rdataKey(x) === key);
    if (i < 0) return undefined;
    const [gone] = set.splice(i, 1);
    this.count--;
    if (set.length === 0) entry.sets.delete(rr.type);
    if (entry.sets.size === 0) this.names.delete(rr.name.key);
    return gone;
  }

  /** Removes a whole RRset; returns what was removed. */
  removeSet(name: Name, type: number): ResourceRecord[] {
    const entry = this.names.get(name.key);
    const set = entry?.sets.get(type);
    if (!entry || !set) return [];
    entry.sets.delete(type);
    this.count -= set.length;
    if (entry.sets.size === 0) this.names.delete(name.key);
    return set;
  }

  getSet(name: Name, type: number): readonly ResourceRecord[] {
    return this.names.get(name.key)?.sets.get(type) ?? [];
  }

  types(name: Name): number[] {
    return [...(this.names.get(name.key)?.sets.keys() ?? [])];
  }

  /** True when the name owns any record (RFC 2136 "name is in use"). */
  hasName(name: Name): boolean {
    return this.names.has(name.key);
  }

  /** Sets the TTL of a whole RRset (RFC 2181 §5.2: one TTL per RRset). */
  setTtl(name: Name, type: number, ttl: number): void {
    const set = this.names.get(name.key)?.sets.get(type);
    if (!set) return;
    for (let i = 0; i < set.length; i++) set[i] = { ...set[i]!, ttl };
  }

  *records(): IterableIterator<ResourceRecord> {
    for (const { sets } of this.names.values()) for (const set of sets.values()) yield* set;
  }

  soa(origin: Name): ResourceRecord | undefined {
    return this.getSet(origin, RRType.SOA)[0];
  }
}

/** Identity of a record's data: type plus canonical RDATA (case-insensitive names in the RFC 4034 types). */
export function rdataKey(rr: ResourceRecord): string {
  const bytes = rr.data instanceof Uint8Array ? rr.data : encodeRdata(rr.type, rr.data, true);
  return Buffer.from(bytes).toString('latin1');
}

/** Key of a record as a whole (owner, type, class, RDATA; TTL ignored). */
export function recordKey(rr: ResourceRecord): string {
  return `${rr.name.key}|${rr.type}|${rr.class}|${rdataKey(rr)}`;
}

/** The differences between two versions of a zone (TTL changes count as delete + add). */
export function diffRecords(before: Iterable<ResourceRecord>, after: Iterable<ResourceRecord>): { deleted: ResourceRecord[]; added: ResourceRecord[] } {
  const old = new Map<string, ResourceRecord>();
  for (const rr of before) old.set(recordKey(rr) + '|' + rr.ttl, rr);
  const added: ResourceRecord[] = [];
  for (const rr of after) {
    const k = recordKey(rr) + '|' + rr.ttl;
    if (old.has(k)) old.delete(k);
    else added.push(rr);
  }
  return { deleted: [...old.values()], added };
}

/** RFC 1982 serial number arithmetic: is `a` newer than `b`? */
export function serialGreater(a: number, b: number): boolean {
  return a !== b && ((a - b) >>> 0) < 0x80000000;
}

/** The next serial after `s` (skipping 0 is not required; wrap-around is RFC 1982 legal). */
export function nextSerial(s: number): number {
  return (s + 1) >>> 0;
}
