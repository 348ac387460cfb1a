import { denialRecords, denialRecordsFor, proveNodata, proveNxdomain } from '../dnssec/denial-verify.js';
import type { ValidationBudget } from '../dnssec/validate.js';
import { Name, RRType, type ResourceRecord } from '../wire/index.js';
import type { Clock } from './types.js';

/** One validated NSEC/NSEC3 RRset with its RRSIGs, kept until `expires` (ms). */
interface StoredDenial {
  rrs: ResourceRecord[];
  sigs: ResourceRecord[];
  storedAt: number;
  expires: number;
}

/** What the store knows of one signed zone: its SOA (for negative answers) and denial records. */
interface ZoneDenials {
  zone: Name;
  soa: ResourceRecord[];
  soaExpires: number;
  /** Keyed by owner and type; insertion order doubles as LRU order. */
  records: Map<string, StoredDenial>;
}

/** A negative answer synthesised from cached, validated denial records. */
export interface SynthesisedDenial {
  kind: 'nxdomain' | 'nodata';
  zone: Name;
  /** The zone's SOA and its RRSIGs, TTLs counted down. */
  soa: ResourceRecord[];
  /** The NSEC/NSEC3 records (and RRSIGs) that prove it, TTLs counted down. */
  proof: ResourceRecord[];
}

export interface AggressiveStats {
  zones: number;
  records: number;
  nxdomain: number;
  nodata: number;
}

/**
 * RFC 8198 aggressive use of the DNSSEC-validated cache: NSEC and NSEC3 records that were part
 * of a *secure* denial are kept per zone, and a later question they already answer (a name in
 * a covered span: NXDOMAIN; a name whose record lacks the type: NODATA) is answered without
 * asking upstream. Only secure proofs are used, so opt-out spans (insecure) never synthesise
 * NXDOMAIN. TTLs follow RFC 9077: min(record TTL, SOA TTL, SOA MINIMUM).
 */
export class DenialStore {
  private readonly zones = new Map<string, ZoneDenials>();
  readonly stats: AggressiveStats = { zones: 0, records: 0, nxdomain: 0, nodata: 0 };

  constructor(
    private readonly clock: Clock,
    /** Denial RRsets remembered per zone (oldest dropped first). */
    private readonly perZone = 128,
    /** Zones remembered (oldest dropped first). */
    private readonly maxZones = 4096,
  ) {}

  /**
   * Stores the records of a secure denial: `zone` is the signer, `soa` its SOA RRset with
   * RRSIGs (may be empty), `proof` the NSEC/NSEC3 records with their RRSIGs. `maxTtl` caps
   * every TTL (the cache's negative TTL cap).
   */
  add(zone: Name, soa: readonly ResourceRecord[], proof: readonly ResourceRecord[], maxTtl: number): void {
    const now = this.clock.now();
    const soaRec = soa.find((r) => r.type === RRType.SOA);
    const soaTtl = soaRec ? Math.min(soaRec.ttl, (soaRec.data as { minimum?: number }).minimum ?? soaRec.ttl) : maxTtl;
    let z = this.zones.get(zone.key);
    if (!z) {
      z = { zone, soa: [], soaExpires: 0, records: new Map() };
      this.zones.set(zone.key, z);
      if (this.zones.size > this.maxZones) this.zones.delete(this.zones.keys().next().value as string);
    }
    if (soaRec) {
      const ttl = Math.min(soaTtl, maxTtl);
      z.soa = soa.map((r) => ({ ...r, ttl }));
      z.soaExpires = now + ttl * 1000;
    }
    for (const r of proof) {
      if (r.type !== RRType.NSEC && r.type !== RRType.NSEC3) continue;
      if (!r.name.isSubdomainOf(zone)) continue;
      const key = `${r.name.key}/${r.type}`;
      const set = proof.filter((x) => x.type === r.type && x.name.equals(r.name));
      const sigs = proof.filter((x) => x.type === RRType.RRSIG && x.name.equals(r.name) && (x.data as { typeCovered?: number }).typeCovered === r.type);
      const ttl = Math.max(0, Math.min(maxTtl, soaTtl, ...set.map((x) => x.ttl)));
      if (ttl === 0) continue;
      z.records.delete(key);
      z.records.set(key, { rrs: set, sigs, storedAt: now, expires: now + ttl * 1000 });
      if (z.records.size > this.perZone) z.records.delete(z.records.keys().next().value as string);
    }
    this.count();
  }

  private count(): void {
    this.stats.zones = this.zones.size;
    let n = 0;
    for (const z of this.zones.values()) n += z.records.size;
    this.stats.records = n;
  }

  /** The deepest stored zone holding `name` (for DS, the parent side). */
  private zoneFor(name: Name, qtype: number): ZoneDenials | undefined {
    let n = qtype === RRType.DS && !name.isRoot ? name.parent() : name;
    for (;;) {
      const z = this.zones.get(n.key);
      if (z) return z;
      if (n.isRoot) return undefined;
      n = n.parent();
    }
  }

  /**
   * A proven NXDOMAIN or NODATA for (name, qtype) from the stored records, or undefined when
   * they do not prove one (then the question goes upstream as usual).
   */
  synthesise(name: Name, qtype: number, budget: ValidationBudget): SynthesisedDenial | undefined {
    const z = this.zoneFor(name, qtype);
    if (!z) return undefined;
    const now = this.clock.now();
    if (z.soaExpires <= now || z.soa.length === 0) return undefined;
    const live: StoredDenial[] = [];
    for (const [k, s] of z.records) {
      if (s.expires > now) live.push(s);
      else z.records.delete(k);
    }
    if (live.length === 0) return undefined;
    const all = live.flatMap((s) => s.rrs);
    const d = denialRecords(all);
    let kind: 'nxdomain' | 'nodata' | undefined;
    if (proveNxdomain(d, name, budget).result === 'secure') kind = 'nxdomain';
    else if (qtype !== RRType.ANY && proveNodata(d, name, qtype, budget).result === 'secure') kind = 'nodata';
    if (!kind) return undefined;
    this.stats[kind]++;
    const used = new Set(denialRecordsFor(all, name, budget));
    const left = (s: { expires: number }) => Math.max(0, Math.floor((s.expires - now) / 1000));
    const proof: ResourceRecord[] = [];
    for (const s of live) {
      if (!s.rrs.some((r) => used.has(r))) continue;
      const ttl = left(s);
      proof.push(...s.rrs.map((r) => ({ ...r, ttl })), ...s.sigs.map((r) => ({ ...r, ttl })));
    }
    const soaTtl = left({ expires: z.soaExpires });
    return { kind, zone: z.zone, soa: z.soa.map((r) => ({ ...r, ttl: soaTtl })), proof };
  }

  flush(): void {
    this.zones.clear();
    this.count();
  }
}
