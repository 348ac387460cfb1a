import { dsMatches } from '../../dnssec/ds.js';
import type { DnskeyData, DsData, RrsigData } from '../../dnssec/types.js';
import { verifyRrsig, type RrsigCheck } from '../../dnssec/verify.js';
import { decodeRdata, encodeRdata, Name, Rcode, RRType, type Message, type ResourceRecord } from '../../wire/index.js';
import { describeOutcome, note, query, report, tryTcp, tryUdp, type Outcome } from '../probe.js';
import type { AuditContext } from '../types.js';

/** RFC 4034 Appendix B key tag of DNSKEY RDATA. */
export function keyTag(rdata: Uint8Array): number {
  let ac = 0;
  for (let i = 0; i < rdata.length; i++) ac += i & 1 ? rdata[i]! : rdata[i]! << 8;
  ac += (ac >>> 16) & 0xffff;
  return ac & 0xffff;
}

export interface RrsigFields {
  typeCovered: number;
  algorithm: number;
  labels: number;
  expiration: number;
  inception: number;
  keyTag: number;
  signer: Name;
}

export function parseRrsig(b: Uint8Array): RrsigFields {
  if (b.length < 19) throw new RangeError('RRSIG RDATA shorter than its fixed fields');
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const { name } = Name.fromWire(b, 18, b.length);
  return {
    typeCovered: v.getUint16(0), algorithm: b[2]!, labels: b[3]!,
    expiration: v.getUint32(8), inception: v.getUint32(12), keyTag: v.getUint16(16), signer: name,
  };
}

async function ask(ctx: AuditContext, msg: Message): Promise<Outcome> {
  if (!ctx.udpAnswers) return tryTcp(ctx, msg);
  const o = await tryUdp(ctx, msg);
  return o.ok && o.res.message.tc && ctx.tcpAnswers ? tryTcp(ctx, msg) : o;
}

/** Record data as our codecs decode it (opaque RDATA from a peer is decoded here). */
function decoded<T>(rr: ResourceRecord): T | undefined {
  if (!(rr.data instanceof Uint8Array)) return rr.data as T;
  try {
    return decodeRdata(rr.type, rr.data) as T;
  } catch {
    return undefined;
  }
}

const REASON: Record<Exclude<RrsigCheck, { ok: true }>['reason'], string> = {
  expired: 'expired', 'not-yet-valid': 'not yet valid', 'bad-signature': 'signature does not verify', 'unsupported-algorithm': 'unsupported algorithm',
  'key-mismatch': 'no matching DNSKEY', 'bad-key': 'unusable DNSKEY', 'bad-labels': 'bad labels field',
};

/**
 * Verifies an RRset's RRSIGs with the zone's DNSKEYs (RFC 4035 §5.3). Returns the tags of
 * the keys whose signature verified, or why none did.
 */
function verifySet(zone: Name, rrset: ResourceRecord[], sigs: RrsigData[], keys: DnskeyData[], now: number): { ok: number[]; why: string[] } {
  const ok: number[] = [];
  const why: string[] = [];
  for (const sig of sigs) {
    if (!sig.signerName.equals(zone)) {
      why.push(`tag ${sig.keyTag}: signer ${sig.signerName}`);
      continue;
    }
    const candidates = keys.filter((k) => k.algorithm === sig.algorithm && keyTag(encodeRdata(RRType.DNSKEY, k)) === sig.keyTag);
    if (candidates.length === 0) {
      why.push(`tag ${sig.keyTag} algorithm ${sig.algorithm}: not among the DNSKEYs`);
      continue;
    }
    let last: RrsigCheck = { ok: false, reason: 'key-mismatch' };
    for (const k of candidates) {
      last = verifyRrsig(rrset, sig, zone, k, now);
      if (last.ok) break;
    }
    if (last.ok) ok.push(sig.keyTag);
    else if (last.reason === 'expired') why.push(`tag ${sig.keyTag}: expired ${new Date(sig.expiration * 1000).toISOString()}`);
    else if (last.reason === 'not-yet-valid') why.push(`tag ${sig.keyTag}: not valid before ${new Date(sig.inception * 1000).toISOString()}`);
    else why.push(`tag ${sig.keyTag}: ${REASON[last.reason]}`);
  }
  return { ok, why };
}

/**
 * The DS set of `zone` as the parent serves it, when the target answers for the parent (or
 * recurses): `undefined` when only the child answered (its own NODATA) or nothing usable came.
 */
async function parentDs(ctx: AuditContext, zone: Name): Promise<{ ds: DsData[]; from: string } | undefined> {
  if (zone.isRoot) return undefined;
  const tries = ctx.recursion ? [false, true] : [false];
  for (const rd of tries) {
    const o = await ask(ctx, query(zone, RRType.DS, { rd, edns: { udpSize: 4096, do: true } }));
    if (!o.ok) continue;
    const m = o.res.message;
    const ds = m.answer.filter((r) => r.type === RRType.DS && r.name.equals(zone)).map((r) => decoded<DsData>(r)).filter((d): d is DsData => d !== undefined);
    if (ds.length) return { ds, from: rd ? 'the target, recursing' : 'the target, authoritative for the parent' };
    // A NODATA from the parent's side: SOA of an ancestor. The child's own SOA says nothing.
    const soa = m.authority.find((r) => r.type === RRType.SOA);
    if (m.rcode === Rcode.NOERROR && soa && zone.isSubdomainOf(soa.name) && !soa.name.equals(zone)) return { ds: [], from: rd ? 'the target, recursing' : 'the target, authoritative for the parent' };
  }
  return undefined;
}

/**
 * `dnssec-missing` / `dnssec-broken` for each `--zone`: DNSKEYs are published; the SOA and
 * DNSKEY RRsets carry RRSIGs by the zone that verify cryptographically (`verifyRrsig`:
 * signature, key tag, algorithm, validity window); and, when the target answers for the
 * parent (or recurses), a DS there matches a DNSKEY (`dsMatches`) that signs the DNSKEY RRset.
 */
export async function checkDnssec(ctx: AuditContext, now = Math.floor(Date.now() / 1000)): Promise<void> {
  if (!ctx.options.zones.length) {
    note(ctx, 'dnssec', 'skipped', 'no --zone given');
    return;
  }
  const missing: string[] = [];
  const broken: string[] = [];
  const fine: string[] = [];
  for (const zone of ctx.options.zones) {
    const k = await ask(ctx, query(zone, RRType.DNSKEY, { edns: { udpSize: 4096, do: true } }));
    if (!k.ok) {
      missing.push(`${zone} DNSKEY: ${describeOutcome(k)}`);
      continue;
    }
    const keyRrs = k.res.message.answer.filter((r) => r.type === RRType.DNSKEY && r.name.equals(zone));
    if (keyRrs.length === 0) {
      missing.push(`${zone}: no DNSKEY records (${describeOutcome(k)})`);
      continue;
    }
    const keySet = keyRrs.map((r) => (r.data instanceof Uint8Array ? { ...r, data: decoded<DnskeyData>(r) ?? r.data } : r));
    const keys = keySet.map((r) => r.data).filter((d): d is DnskeyData => !(d instanceof Uint8Array));
    const problems: string[] = [];
    const good: string[] = [];
    const s = await ask(ctx, query(zone, RRType.SOA, { edns: { udpSize: 4096, do: true } }));
    const sets: Array<[string, number, ResourceRecord[]]> = [['DNSKEY', RRType.DNSKEY, k.res.message.answer]];
    if (s.ok) sets.push(['SOA', RRType.SOA, s.res.message.answer]);
    else problems.push(`SOA query failed (${describeOutcome(s)})`);
    let dnskeySigners: number[] = [];
    for (const [label, covered, answer] of sets) {
      const rrset = covered === RRType.DNSKEY ? keySet : answer.filter((r) => r.type === covered && r.name.equals(zone));
      const sigs = answer.filter((r) => r.type === RRType.RRSIG && r.name.equals(zone)).map((r) => decoded<RrsigData>(r))
        .filter((x): x is RrsigData => x !== undefined && x.typeCovered === covered);
      if (sigs.length === 0) {
        problems.push(`${label} RRset has no RRSIG`);
        continue;
      }
      const v = verifySet(zone, rrset, sigs, keys, now);
      if (v.ok.length === 0) problems.push(`${label} RRSIG does not validate: ${v.why.join(', ')}`);
      else good.push(`${label} signed by ${v.ok.join(', ')}`);
      if (covered === RRType.DNSKEY) dnskeySigners = v.ok;
    }
    const parent = await parentDs(ctx, zone);
    if (!parent) good.push('DS not checked (the parent is not served by the target)');
    else if (parent.ds.length === 0) good.push(`no DS at the parent (${parent.from}): the zone is not in a chain of trust`);
    else {
      // RFC 4035 §5.2: some DS must match a DNSKEY that signs the DNSKEY RRset.
      const matched = keys.filter((key) => parent.ds.some((d) => dsMatches(zone, d, key)));
      const tags = matched.map((key) => keyTag(encodeRdata(RRType.DNSKEY, key)));
      if (matched.length === 0) problems.push(`DS at the parent (tags ${parent.ds.map((d) => d.keyTag).join(', ')}) matches no DNSKEY`);
      else if (!tags.some((t) => dnskeySigners.includes(t))) problems.push(`DNSKEY ${tags.join(', ')} named by the parent's DS does not sign the DNSKEY RRset`);
      else good.push(`DS ${tags.join(', ')} at the parent matches`);
    }
    if (problems.length) broken.push(`${zone}: ${problems.join('; ')}`);
    else fine.push(`${zone}: ${keys.length} DNSKEYs; ${good.join('; ')}`);
  }
  if (missing.length) {
    report(ctx, { id: 'dnssec-missing', severity: 'warning', title: 'Zone not signed with DNSSEC', evidence: missing.join('; ') });
  }
  if (broken.length) {
    report(ctx, { id: 'dnssec-broken', severity: 'high', title: 'DNSSEC signatures or the DS do not validate', evidence: broken.join('; ') });
  }
  if (fine.length) note(ctx, 'dnssec', 'pass', fine.join('; '));
}
