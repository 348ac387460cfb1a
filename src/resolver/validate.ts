import { delegationAt, denialRecords, proveNodata, proveNxdomain, proveWildcardAnswer, type Proof } from '../dnssec/denial-verify.js';
import { NegativeTrustAnchors, type TrustAnchors } from '../dnssec/trust-anchors.js';
import type { DnskeyData, DsData, RrsigData } from '../dnssec/types.js';
import { EDE, sigsCovering, validateKeyset, verifyRrset, wildcardEncloser, type Ede, type Security } from '../dnssec/validate.js';
import { Name, Rcode, RRType, type ResourceRecord } from '../wire/index.js';
import { groupRRsets, type FetchResult, type Plan } from './iterate.js';
import type { Clock } from './types.js';

/** What the resolver gives the validator: sub-questions through the same cache and budget. */
export interface ValidatorHost {
  /** A validated resolution (DS questions). */
  resolveValidated(name: Name, qtype: number, qclass: number, plan: Plan, depth: number): Promise<ValidatedAnswer>;
  /** Records and their RRSIGs without validation (a zone's DNSKEY RRset, checked against its DS here). */
  fetchRaw(name: Name, qtype: number, qclass: number, plan: Plan, depth: number): Promise<{ rrs: ResourceRecord[]; sigs: ResourceRecord[] } | { fail: Ede }>;
}

export interface ValidatedAnswer {
  rcode: number;
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  security: Security;
  ede?: Ede;
}

export interface ValidatorConfig {
  anchors: TrustAnchors;
  negative: NegativeTrustAnchors;
  /** Seconds since the epoch for signature validity windows. */
  now: () => number;
  clock: Clock;
  /** Seconds a bogus result (and a zone's bogus key state) is remembered (RFC 4035 §4.7). */
  bogusTtl: number;
}

export type ZoneKeys = { security: 'secure'; keys: DnskeyData[] } | { security: 'insecure'; ede?: Ede } | { security: 'bogus'; ede: Ede };

export interface Verdict {
  security: Security;
  ede?: Ede;
  /** Seconds the result may be cached (signature expiry, bogus hold time). */
  ttl?: number;
}

/** One RRset (or negative entry) of a fetch with its verdict, for the cache. */
export interface SetVerdict {
  name: Name;
  type: number | 'NX';
  verdict: Verdict;
}

const rank: Record<Security, number> = { secure: 0, insecure: 1, indeterminate: 2, bogus: 3 };

/** The weaker of two verdicts (bogus beats indeterminate beats insecure beats secure). */
export function worse(a: Verdict, b: Verdict): Verdict {
  return rank[b.security] > rank[a.security] ? b : a;
}

const MAX_NESTING = 24;

/**
 * The `validate` layer of the query plan (RFC 4035 §5): builds the chain of trust from the
 * closest trust anchor down to the zone that signed each RRset, fetching DS and DNSKEY
 * through the resolver (cached, within the question's budget), then checks signatures and
 * denial proofs. Key states per zone are remembered for their TTL.
 */
export class Validator {
  private readonly keyCache = new Map<string, { keys: ZoneKeys; expires: number }>();
  readonly stats = { secure: 0, insecure: 0, bogus: 0, keyFetches: 0 };

  constructor(readonly config: ValidatorConfig, private readonly host: ValidatorHost) {}

  /** Is validation switched off for this name (no anchor above it, or a live negative anchor)? */
  outOfScope(name: Name): Ede | undefined {
    const nta = this.config.negative.covering(name, this.config.clock.now());
    if (nta) return { infoCode: EDE.OTHER, text: `negative trust anchor ${nta}` };
    if (!this.config.anchors.closest(name)) return { infoCode: EDE.OTHER, text: 'no trust anchor' };
    return undefined;
  }

  flushKeys(): void {
    this.keyCache.clear();
  }

  /** The trusted keys of `zone`, or why there are none (insecure: provably unsigned; bogus). */
  async zoneKeys(zone: Name, qclass: number, plan: Plan, depth: number): Promise<ZoneKeys> {
    if (this.outOfScope(zone)) return { security: 'insecure' };
    const now = this.config.clock.now();
    const cached = this.keyCache.get(zone.key);
    if (cached && cached.expires > now) return cached.keys;
    const loopKey = `keys/${zone.key}`;
    if (plan.active.has(loopKey) || depth > MAX_NESTING) return { security: 'bogus', ede: { infoCode: EDE.DNSSEC_BOGUS, text: `validation loop at ${zone}` } };
    plan.active.add(loopKey);
    try {
      const { keys, ttl } = await this.buildKeys(zone, qclass, plan, depth);
      this.keyCache.set(zone.key, { keys, expires: now + ttl * 1000 });
      return keys;
    } finally {
      plan.active.delete(loopKey);
    }
  }

  private async buildKeys(zone: Name, qclass: number, plan: Plan, depth: number): Promise<{ keys: ZoneKeys; ttl: number }> {
    const bogus = (ede: Ede) => ({ keys: { security: 'bogus' as const, ede }, ttl: this.config.bogusTtl });
    const anchor = this.config.anchors.get(zone);
    let ds: DsData[] = [];
    let anchorKeys: DnskeyData[] = [];
    let dsTtl = 3600;
    if (anchor) {
      ds = anchor.ds;
      anchorKeys = anchor.keys;
    } else {
      const r = await this.host.resolveValidated(zone, RRType.DS, qclass, plan, depth + 1);
      if (r.security === 'bogus') return bogus(r.ede ?? { infoCode: EDE.DNSSEC_BOGUS, text: `DS for ${zone} is bogus` });
      if (r.rcode !== Rcode.NOERROR && r.rcode !== Rcode.NXDOMAIN) {
        return bogus({ infoCode: EDE.DNSKEY_MISSING, text: `cannot get the DS of ${zone}: ${r.ede?.text ?? 'SERVFAIL'}` });
      }
      const dsRrs = r.answer.filter((x) => x.type === RRType.DS && x.name.equals(zone) && !(x.data instanceof Uint8Array));
      if (r.security === 'insecure') return { keys: { security: 'insecure', ede: r.ede }, ttl: ttlOf(r.answer, r.authority) };
      if (r.security !== 'secure') return bogus(r.ede ?? { infoCode: EDE.DNSSEC_INDETERMINATE, text: `DS of ${zone} could not be validated` });
      if (dsRrs.length === 0) {
        // A proven absence of DS: an unsigned delegation, or no zone cut here at all (then the
        // name belongs to the parent's zone and its keys).
        const d = denialRecords(r.authority);
        const at = delegationAt(d, zone, plan.validation);
        if (at === 'no-cut' && !zone.isRoot) {
          const parent = await this.zoneKeys(zone.parent(), qclass, plan, depth + 1);
          return { keys: parent, ttl: ttlOf(r.answer, r.authority) };
        }
        return { keys: { security: 'insecure' }, ttl: ttlOf(r.answer, r.authority) };
      }
      ds = dsRrs.map((x) => x.data as DsData);
      dsTtl = Math.min(...dsRrs.map((x) => x.ttl));
    }
    this.stats.keyFetches++;
    const got = await this.host.fetchRaw(zone, RRType.DNSKEY, qclass, plan, depth + 1);
    if ('fail' in got) return bogus({ infoCode: EDE.DNSKEY_MISSING, text: `cannot get the DNSKEY of ${zone}: ${got.fail.text}` });
    const keySigs = sigsCovering(got.sigs, zone, RRType.DNSKEY);
    const v = validateKeyset(zone, got.rrs, keySigs, ds, anchorKeys, this.config.now(), plan.validation);
    // RFC 5011: a managed anchor learns from every validated fetch of its zone's keys.
    if (v.security === 'secure' && anchor) this.config.anchors.observe(zone, got.rrs, keySigs, this.config.now());
    if (v.security === 'secure') return { keys: { security: 'secure', keys: v.keys }, ttl: Math.max(1, Math.min(v.ttl, dsTtl)) };
    if (v.security === 'insecure') return { keys: { security: 'insecure', ede: v.ede }, ttl: dsTtl };
    return bogus(v.ede);
  }

  /**
   * Validates what one fetch brought: every RRset of the answer chain with its own signer's
   * keys, wildcard expansions against their proofs, and a negative ending against NSEC/NSEC3.
   */
  async checkFetch(r: Exclude<FetchResult, { kind: 'fail' }>, qtype: number, qclass: number, plan: Plan, depth: number): Promise<{ overall: Verdict; sets: SetVerdict[] }> {
    const sets: SetVerdict[] = [];
    let overall: Verdict = { security: 'secure' };
    const records = r.kind === 'answer' ? [...r.chain, ...r.rrs] : r.chain;
    const groups = groupRRsets(records);
    for (const set of groups) {
      const first = set[0]!;
      if (first.type === RRType.CNAME && isSynthesised(first, records)) continue; // ours, from a validated DNAME
      const v = await this.checkRrset(set, r.sigs, r.proof, r.zone, r.forwarded, qclass, plan, depth);
      sets.push({ name: first.name, type: first.type, verdict: v });
      overall = worse(overall, v);
    }
    if (r.kind === 'nxdomain' || r.kind === 'nodata') {
      const v = await this.checkDenial(r.kind, r.target, qtype, r.proof, r.zone, qclass, plan, depth);
      sets.push({ name: r.target, type: r.kind === 'nxdomain' ? 'NX' : qtype, verdict: v });
      overall = worse(overall, v);
    }
    this.stats[overall.security === 'secure' ? 'secure' : overall.security === 'bogus' ? 'bogus' : 'insecure']++;
    return { overall, sets };
  }

  private async checkRrset(
    set: ResourceRecord[], allSigs: ResourceRecord[], proof: ResourceRecord[], cutZone: Name, forwarded: boolean, qclass: number, plan: Plan, depth: number,
  ): Promise<Verdict> {
    const owner = set[0]!.name;
    const type = set[0]!.type;
    if (this.outOfScope(owner)) return { security: 'insecure' };
    if (type === RRType.RRSIG) return { security: 'insecure' }; // RRSIGs are not signed themselves
    const sigs = sigsCovering(allSigs, owner, type);
    // The signer must be the owner or one of its ancestors (RFC 4035 §5.3.1).
    const signer = sigs.find((s) => owner.isSubdomainOf(s.signerName))?.signerName;
    const zone = signer ?? (forwarded ? owner : cutZone);
    const keyZone = (z: Name) => (type === RRType.DS && z.equals(owner) && !owner.isRoot ? owner.parent() : z);
    let keys = await this.zoneKeys(keyZone(zone), qclass, plan, depth);
    if (!signer && keys.security === 'secure' && !zone.equals(keyZone(owner))) {
      // Unsigned data under a secure cut: an unsigned delegation may lie between the cut we
      // know and the owner (one server answering for parent and child). Ask for the owner's
      // DS, walking up through names that are not cuts (RFC 4035 §5.2, RFC 6840 §4.4).
      keys = await this.zoneKeys(keyZone(owner), qclass, plan, depth);
    }
    if (keys.security === 'insecure') return { security: 'insecure', ede: keys.ede };
    if (keys.security === 'bogus') return { security: 'bogus', ede: keys.ede, ttl: this.config.bogusTtl };
    if (!signer) return { security: 'bogus', ede: { infoCode: EDE.RRSIGS_MISSING, text: `no RRSIG for ${owner} type ${type} in signed zone ${zone}` }, ttl: this.config.bogusTtl };
    const v = verifyRrset(set, sigs, keys.keys, signer, this.config.now(), plan.validation);
    if (!v.ok) return { security: 'bogus', ede: v.ede, ttl: this.config.bogusTtl };
    const encloser = wildcardEncloser(owner, v.sig);
    if (encloser) {
      const checked = await this.verifiedDenial(proof, qclass, plan, depth);
      if (checked.bogus) return checked.bogus;
      const p = proveWildcardAnswer(denialRecords(checked.rrs), owner, encloser, plan.validation);
      const pv = proofVerdict(p, this.config.bogusTtl);
      if (pv.security !== 'secure') return pv;
    }
    return { security: 'secure', ttl: v.ttl };
  }

  private async checkDenial(
    kind: 'nxdomain' | 'nodata', name: Name, qtype: number, proof: ResourceRecord[], cutZone: Name, qclass: number, plan: Plan, depth: number,
  ): Promise<Verdict> {
    if (this.outOfScope(name)) return { security: 'insecure' };
    const soa = proof.find((r) => r.type === RRType.SOA && name.isSubdomainOf(r.name));
    const rrsig = proof.find((r) => r.type === RRType.RRSIG && !(r.data instanceof Uint8Array)
      && ((r.data as RrsigData).typeCovered === RRType.NSEC || (r.data as RrsigData).typeCovered === RRType.NSEC3 || (r.data as RrsigData).typeCovered === RRType.SOA));
    const signer = rrsig ? (rrsig.data as RrsigData).signerName : undefined;
    let zone = signer && name.isSubdomainOf(signer) ? signer : soa?.name ?? cutZone;
    // A DS denial comes from the parent: an unsigned answer names the parent's SOA.
    if (qtype === RRType.DS && zone.equals(name) && !name.isRoot) zone = name.parent();
    const keys = await this.zoneKeys(zone, qclass, plan, depth);
    if (keys.security === 'insecure') return { security: 'insecure', ede: keys.ede };
    if (keys.security === 'bogus') return { security: 'bogus', ede: keys.ede, ttl: this.config.bogusTtl };
    if (soa) {
      const s = proof.filter((r) => r.type === RRType.SOA && r.name.equals(soa.name));
      const v = verifyRrset(s, sigsCovering(proof, soa.name, RRType.SOA), keys.keys, zone, this.config.now(), plan.validation);
      if (!v.ok) return { security: 'bogus', ede: v.ede, ttl: this.config.bogusTtl };
    }
    const checked = await this.verifiedDenial(proof, qclass, plan, depth);
    if (checked.bogus) return checked.bogus;
    if (checked.rrs.length === 0) {
      return { security: 'bogus', ede: { infoCode: EDE.NSEC_MISSING, text: `no NSEC/NSEC3 records deny ${name}${kind === 'nodata' ? ' type ' + qtype : ''}` }, ttl: this.config.bogusTtl };
    }
    const d = denialRecords(checked.rrs);
    const p = kind === 'nxdomain' ? proveNxdomain(d, name, plan.validation) : proveNodata(d, name, qtype, plan.validation);
    return proofVerdict(p, this.config.bogusTtl);
  }

  /** The NSEC/NSEC3 RRsets of a proof whose signatures verify with their zone's keys. */
  private async verifiedDenial(proof: ResourceRecord[], qclass: number, plan: Plan, depth: number): Promise<{ rrs: ResourceRecord[]; bogus?: Verdict }> {
    const out: ResourceRecord[] = [];
    for (const set of groupRRsets(proof.filter((r) => r.type === RRType.NSEC || r.type === RRType.NSEC3))) {
      const owner = set[0]!.name;
      const sigs = sigsCovering(proof, owner, set[0]!.type);
      const signer = sigs.find((s) => owner.isSubdomainOf(s.signerName))?.signerName;
      if (!signer) return { rrs: out, bogus: { security: 'bogus', ede: { infoCode: EDE.RRSIGS_MISSING, text: `no RRSIG for ${owner} ${set[0]!.type === RRType.NSEC ? 'NSEC' : 'NSEC3'}` }, ttl: this.config.bogusTtl } };
      const keys = await this.zoneKeys(signer, qclass, plan, depth);
      if (keys.security !== 'secure') continue;
      const v = verifyRrset(set, sigs, keys.keys, signer, this.config.now(), plan.validation);
      if (!v.ok) return { rrs: out, bogus: { security: 'bogus', ede: v.ede, ttl: this.config.bogusTtl } };
      out.push(...set);
    }
    return { rrs: out };
  }
}

function proofVerdict(p: Proof, bogusTtl: number): Verdict {
  if (p.result === 'secure') return { security: 'secure' };
  if (p.result === 'insecure') return { security: 'insecure', ede: p.ede };
  return { security: 'bogus', ede: p.ede, ttl: bogusTtl };
}

function isSynthesised(cname: ResourceRecord, records: ResourceRecord[]): boolean {
  return records.some((r) => r.type === RRType.DNAME && cname.name.isSubdomainOf(r.name) && !cname.name.equals(r.name));
}

function ttlOf(...sections: ResourceRecord[][]): number {
  const ttls = sections.flat().map((r) => r.ttl);
  return ttls.length > 0 ? Math.max(1, Math.min(...ttls)) : 60;
}

export { Name };
