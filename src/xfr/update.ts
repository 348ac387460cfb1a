import { encodeRdata, isMetaType, Name, Rcode, RRClass, RRType, type Message, type ResourceRecord, type SoaData } from '../wire/index.js';
import { nextSerial, rdataKey, RecordStore, serialGreater } from './record-set.js';

/**
 * Dynamic update (RFC 2136 §3) against an editable copy of a zone. All or nothing: the caller
 * applies the result (and journals it) only when `rcode` is NOERROR and `changed` is true.
 * Access control (allow-update, TSIG) is checked by the caller before this runs.
 */
export interface UpdateResult {
  rcode: number;
  /** Human-readable reason for a refusal, for the log. */
  reason?: string;
  changed: boolean;
  deleted: ResourceRecord[];
  added: ResourceRecord[];
  serial?: { from: number; to: number };
}

const fail = (rcode: number, reason: string): UpdateResult => ({ rcode, reason, changed: false, deleted: [], added: [] });

/** Types that may sit beside a CNAME (RFC 2535/4035). */
const CNAME_COMPANIONS = new Set<number>([RRType.CNAME, RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.KEY, RRType.SIG, RRType.NXT]);

export function applyUpdate(origin: Name, zoneClass: number, store: RecordStore, msg: Message): UpdateResult {
  // §3.1: the zone section names exactly one SOA.
  const z = msg.question;
  if (z.length !== 1 || z[0]!.type !== RRType.SOA) return fail(Rcode.FORMERR, 'zone section must hold exactly one SOA question');
  if (!z[0]!.name.equals(origin) || z[0]!.class !== zoneClass) return fail(Rcode.NOTAUTH, `not authoritative for ${z[0]!.name}`);

  // §3.2: prerequisites.
  const valueSets = new Map<string, { name: Name; type: number; keys: Set<string> }>();
  for (const rr of msg.answer) {
    if (rr.ttl !== 0) return fail(Rcode.FORMERR, 'prerequisite with a non-zero TTL');
    if (!rr.name.isSubdomainOf(origin)) return fail(Rcode.NOTZONE, `prerequisite ${rr.name} is outside the zone`);
    const empty = isEmptyRdata(rr);
    if (rr.class === RRClass.ANY) {
      if (!empty) return fail(Rcode.FORMERR, 'class ANY prerequisite with RDATA');
      if (rr.type === RRType.ANY) {
        if (!store.hasName(rr.name)) return fail(Rcode.NXDOMAIN, `${rr.name} does not exist`);
      } else if (store.getSet(rr.name, rr.type).length === 0) return fail(Rcode.NXRRSET, `${rr.name} has no ${rr.type} RRset`);
    } else if (rr.class === RRClass.NONE) {
      if (!empty) return fail(Rcode.FORMERR, 'class NONE prerequisite with RDATA');
      if (rr.type === RRType.ANY) {
        if (store.hasName(rr.name)) return fail(Rcode.YXDOMAIN, `${rr.name} exists`);
      } else if (store.getSet(rr.name, rr.type).length > 0) return fail(Rcode.YXRRSET, `${rr.name} has an RRset of type ${rr.type}`);
    } else if (rr.class === zoneClass) {
      const k = `${rr.name.key}|${rr.type}`;
      let v = valueSets.get(k);
      if (!v) valueSets.set(k, (v = { name: rr.name, type: rr.type, keys: new Set() }));
      v.keys.add(rdataKey(rr));
    } else return fail(Rcode.FORMERR, `prerequisite of class ${rr.class}`);
  }
  for (const v of valueSets.values()) {
    const have = store.getSet(v.name, v.type).map(rdataKey);
    if (have.length !== v.keys.size || !have.every((k) => v.keys.has(k))) return fail(Rcode.NXRRSET, `${v.name} RRset of type ${v.type} differs`);
  }

  // §3.4.1: prescan the update section; nothing is changed if any entry is bad.
  for (const rr of msg.authority) {
    if (!rr.name.isSubdomainOf(origin)) return fail(Rcode.NOTZONE, `update ${rr.name} is outside the zone`);
    const empty = isEmptyRdata(rr);
    if (rr.class === zoneClass) {
      if (isMetaType(rr.type)) return fail(Rcode.FORMERR, `cannot add meta type ${rr.type}`);
      if (empty && rr.type !== RRType.NULL) return fail(Rcode.FORMERR, 'add with empty RDATA');
    } else if (rr.class === RRClass.ANY) {
      if (rr.ttl !== 0 || !empty) return fail(Rcode.FORMERR, 'class ANY delete must have TTL 0 and no RDATA');
      if (isMetaType(rr.type) && rr.type !== RRType.ANY) return fail(Rcode.FORMERR, `cannot delete meta type ${rr.type}`);
    } else if (rr.class === RRClass.NONE) {
      if (rr.ttl !== 0) return fail(Rcode.FORMERR, 'class NONE delete must have TTL 0');
      if (isMetaType(rr.type)) return fail(Rcode.FORMERR, `cannot delete meta type ${rr.type}`);
    } else return fail(Rcode.FORMERR, `update of class ${rr.class}`);
  }

  // §3.4.2: apply, tracking what really changed.
  const deleted: ResourceRecord[] = [];
  const added: ResourceRecord[] = [];
  const oldSoa = store.soa(origin) as ResourceRecord<SoaData>;
  let explicitSerial = false;
  for (const rr of msg.authority) {
    const atApex = rr.name.equals(origin);
    if (rr.class === zoneClass) {
      const types = store.types(rr.name);
      if (rr.type === RRType.CNAME && types.some((t) => !CNAME_COMPANIONS.has(t))) continue;
      if (rr.type !== RRType.CNAME && !CNAME_COMPANIONS.has(rr.type) && types.includes(RRType.CNAME)) continue;
      if (rr.type === RRType.SOA) {
        if (!atApex) continue;
        const cur = store.soa(origin) as ResourceRecord<SoaData>;
        if (!serialGreater((rr.data as SoaData).serial, cur.data.serial)) continue;
        deleted.push(...store.removeSet(origin, RRType.SOA));
        store.add({ ...rr, class: zoneClass });
        added.push(rr);
        explicitSerial = true;
        continue;
      }
      if (rr.type === RRType.CNAME) {
        // A CNAME replaces the previous CNAME (one per name).
        const prev = store.getSet(rr.name, RRType.CNAME);
        if (prev.length && rdataKey(prev[0]!) === rdataKey(rr)) continue;
        deleted.push(...store.removeSet(rr.name, RRType.CNAME));
      }
      const existing = store.getSet(rr.name, rr.type);
      if (existing.length && existing[0]!.ttl !== rr.ttl) {
        // One TTL per RRset: the new TTL applies to the set (journalled as delete + add).
        deleted.push(...existing.map((x) => x));
        store.setTtl(rr.name, rr.type, rr.ttl);
        added.push(...store.getSet(rr.name, rr.type));
      }
      if (store.add(rr)) added.push(rr);
    } else if (rr.class === RRClass.ANY) {
      if (rr.type === RRType.ANY) {
        for (const t of store.types(rr.name)) {
          if (atApex && (t === RRType.SOA || t === RRType.NS)) continue;
          deleted.push(...store.removeSet(rr.name, t));
        }
      } else {
        if (atApex && (rr.type === RRType.SOA || rr.type === RRType.NS)) continue;
        deleted.push(...store.removeSet(rr.name, rr.type));
      }
    } else {
      // class NONE: delete one RR. Never the SOA, never the zone's last apex NS.
      if (rr.type === RRType.SOA) continue;
      if (atApex && rr.type === RRType.NS && store.getSet(origin, RRType.NS).length <= 1) continue;
      const gone = store.remove({ ...rr, class: zoneClass });
      if (gone) deleted.push(gone);
    }
  }
  const { deleted: d, added: a } = netChanges(deleted, added);
  if (d.length === 0 && a.length === 0) return { rcode: Rcode.NOERROR, changed: false, deleted: [], added: [] };
  // §3.6: the serial goes up by one unless the update set a higher one itself.
  if (!explicitSerial) {
    const cur = store.soa(origin) as ResourceRecord<SoaData>;
    const bumped: ResourceRecord<SoaData> = { ...cur, data: { ...cur.data, serial: nextSerial(cur.data.serial) } };
    store.removeSet(origin, RRType.SOA);
    store.add(bumped);
    d.push(cur);
    a.push(bumped);
  }
  const newSoa = store.soa(origin) as ResourceRecord<SoaData>;
  return { rcode: Rcode.NOERROR, changed: true, deleted: d, added: a, serial: { from: oldSoa.data.serial, to: newSoa.data.serial } };
}

/** Drops pairs where a record was added and then deleted (or the reverse) within one update. */
export function netChanges(deleted: ResourceRecord[], added: ResourceRecord[]): { deleted: ResourceRecord[]; added: ResourceRecord[] } {
  const key = (rr: ResourceRecord) => `${rr.name.key}|${rr.type}|${rdataKey(rr)}|${rr.ttl}`;
  const addCount = new Map<string, number>();
  for (const rr of added) addCount.set(key(rr), (addCount.get(key(rr)) ?? 0) + 1);
  const outDel: ResourceRecord[] = [];
  for (const rr of deleted) {
    const n = addCount.get(key(rr)) ?? 0;
    if (n > 0) addCount.set(key(rr), n - 1);
    else outDel.push(rr);
  }
  const outAdd: ResourceRecord[] = [];
  const delCount = new Map<string, number>();
  for (const rr of deleted) delCount.set(key(rr), (delCount.get(key(rr)) ?? 0) + 1);
  for (const rr of added) {
    const n = delCount.get(key(rr)) ?? 0;
    if (n > 0) delCount.set(key(rr), n - 1);
    else outAdd.push(rr);
  }
  return { deleted: outDel, added: outAdd };
}

/** RDLENGTH 0 on the wire (the decoder may still have produced a typed, empty value). */
function isEmptyRdata(rr: ResourceRecord): boolean {
  if (rr.data instanceof Uint8Array) return rr.data.length === 0;
  try {
    return encodeRdata(rr.type, rr.data).length === 0;
  } catch {
    return false;
  }
}
