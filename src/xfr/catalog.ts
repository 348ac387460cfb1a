import { createHash } from 'node:crypto';
import { Name, RRClass, RRType, type ResourceRecord, type SoaData } from '../wire/index.js';
import type { Zone } from '../zone/zone.js';

/**
 * Catalog zones (RFC 9432, schema version 2): a zone whose records list other zones, so that
 * secondaries add and remove member zones by transferring one zone instead of editing config.
 *
 *   catalog.            0 SOA invalid. invalid. SERIAL 3600 600 2147483646 0
 *   catalog.            0 NS  invalid.
 *   version.catalog.    0 TXT "2"
 *   <id>.zones.catalog. 0 PTR member.example.
 *
 * The producer side generates that content; the consumer side reads it back.
 */

/** The schema version we produce and accept (RFC 9432 §4.2.1). */
export const CATALOG_VERSION = '2';

/**
 * The unique member label of a zone (RFC 9432 §4.1: any label unique within the catalog; it
 * stays the same while the member stays, §5.4). A digest of the lower-case name, so every
 * producer run gives a member the same label.
 */
export function memberId(member: Name): string {
  return createHash('sha256').update(member.key).digest('hex').slice(0, 20);
}

/** The records of a catalog listing `members` (RFC 9432 §4). */
export function catalogRecords(catalog: Name, members: readonly Name[], serial: number): ResourceRecord[] {
  const invalid = Name.parse('invalid.');
  const soa: ResourceRecord<SoaData> = {
    name: catalog, type: RRType.SOA, class: RRClass.IN, ttl: 0,
    data: { mname: invalid, rname: invalid, serial: serial >>> 0, refresh: 3600, retry: 600, expire: 2147483646, minimum: 0 },
  };
  const out: ResourceRecord[] = [
    soa,
    { name: catalog, type: RRType.NS, class: RRClass.IN, ttl: 0, data: { target: invalid } },
    { name: Name.parse(`version.${catalog.toString()}`), type: RRType.TXT, class: RRClass.IN, ttl: 0, data: { strings: [new TextEncoder().encode(CATALOG_VERSION)] } },
  ];
  const seen = new Set<string>();
  for (const m of members) {
    if (seen.has(m.key)) continue;
    seen.add(m.key);
    out.push({ name: Name.parse(`${memberId(m)}.zones.${catalog.toString()}`), type: RRType.PTR, class: RRClass.IN, ttl: 0, data: { target: m } });
  }
  return out;
}

export interface CatalogContent {
  /** The `version` TXT value, undefined when absent. */
  readonly version: string | undefined;
  /** Members by lower-case name key. */
  readonly members: Map<string, { readonly name: Name; readonly id: string }>;
  /** Problems found (each also makes the member it names be ignored). */
  readonly problems: string[];
}

/** Reads a catalog zone (RFC 9432 §4.1, §4.2): its version and member zones. */
export function readCatalog(zone: Zone): CatalogContent {
  const origin = zone.origin;
  const problems: string[] = [];
  const members = new Map<string, { name: Name; id: string }>();
  const versionNode = zone.getNode(Name.parse(`version.${origin.toString()}`));
  const txt = versionNode?.getRRset(RRType.TXT)?.records ?? [];
  let version: string | undefined;
  if (txt.length === 1 && !(txt[0]!.data instanceof Uint8Array)) {
    version = (txt[0]!.data as { strings: Uint8Array[] }).strings.map((s) => Buffer.from(s).toString('latin1')).join('');
  } else if (txt.length > 1) problems.push('more than one version TXT record');
  const zones = Name.parse(`zones.${origin.toString()}`);
  const depth = zones.labelCount + 1;
  for (const rr of zone.records()) {
    if (rr.type !== RRType.PTR || !rr.name.isSubdomainOf(zones) || rr.name.labelCount !== depth) continue;
    if (rr.data instanceof Uint8Array) continue;
    const target = (rr.data as { target: Name }).target;
    const idText = rr.name.labels[0]!;
    // §4.1: a member label with more than one PTR is broken; the member is ignored.
    if (zone.getNode(rr.name)!.getRRset(RRType.PTR)!.records.length !== 1) {
      problems.push(`member ${rr.name} has more than one PTR record; ignored`);
      continue;
    }
    if (members.has(target.key)) {
      problems.push(`zone ${target} is listed twice; the first entry is used`);
      continue;
    }
    members.set(target.key, { name: target, id: idText });
  }
  return { version, members, problems };
}
