import { encodeRdata, Name, RRType, type Message, type ResourceRecord } from '../../wire/index.js';
import { describeOutcome, note, query, report, tryTcp, tryUdp, type Outcome } from '../probe.js';
import type { AuditContext } from '../types.js';

/** RDATA bytes whatever the decoded shape (opaque today, an object once a codec exists). */
function rdataBytes(rr: ResourceRecord): Uint8Array {
  return rr.data instanceof Uint8Array ? rr.data : encodeRdata(rr.type, rr.data);
}

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

/** RFC 4034 §3.1.5: times compare in serial-number arithmetic (RFC 1982), 32 bits. */
function before(a: number, b: number): boolean {
  return ((b - a) >>> 0) < 0x80000000 && a !== b;
}

async function ask(ctx: AuditContext, msg: Message): Promise<Outcome> {
  if (!ctx.udpAnswers) return tryTcp(ctx, msg);
  const o = await tryUdp(ctx, msg);
  return o.ok && o.res.message.tc && ctx.tcpAnswers ? tryTcp(ctx, msg) : o;
}

/**
 * `dnssec-missing` / `dnssec-broken` for each `--zone`. The check is structural: DNSKEYs are
 * published, the SOA and DNSKEY RRsets carry RRSIGs whose validity window covers now, signed by
 * the zone with a key tag and algorithm found among its DNSKEYs. Signatures are not verified
 * cryptographically.
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
    const keys = k.res.message.answer.filter((r) => r.type === RRType.DNSKEY && r.name.equals(zone));
    if (keys.length === 0) {
      missing.push(`${zone}: no DNSKEY records (${describeOutcome(k)})`);
      continue;
    }
    const known = new Set(keys.map((r) => {
      const b = rdataBytes(r);
      return `${keyTag(b)}/${b[3]}`;
    }));
    const problems: string[] = [];
    const s = await ask(ctx, query(zone, RRType.SOA, { edns: { udpSize: 4096, do: true } }));
    const sets: [string, ResourceRecord[]][] = [['DNSKEY', k.res.message.answer]];
    if (s.ok) sets.push(['SOA', s.res.message.answer]);
    else problems.push(`SOA query failed (${describeOutcome(s)})`);
    for (const [label, answer] of sets) {
      const covered = label === 'SOA' ? RRType.SOA : RRType.DNSKEY;
      const sigs = answer.filter((r) => r.type === RRType.RRSIG).map((r) => {
        try {
          return parseRrsig(rdataBytes(r));
        } catch {
          return undefined;
        }
      }).filter((x): x is RrsigFields => x !== undefined && x.typeCovered === covered);
      if (sigs.length === 0) {
        problems.push(`${label} RRset has no RRSIG`);
        continue;
      }
      const good = sigs.filter((g) => g.signer.equals(zone) && known.has(`${g.keyTag}/${g.algorithm}`) && !before(now, g.inception) && before(now, g.expiration));
      if (good.length === 0) {
        const g = sigs[0]!;
        const why: string[] = [];
        if (!g.signer.equals(zone)) why.push(`signer ${g.signer}`);
        if (!known.has(`${g.keyTag}/${g.algorithm}`)) why.push(`key tag ${g.keyTag} algorithm ${g.algorithm} not among the DNSKEYs`);
        if (before(now, g.inception)) why.push(`not valid before ${new Date(g.inception * 1000).toISOString()}`);
        if (!before(now, g.expiration)) why.push(`expired ${new Date(g.expiration * 1000).toISOString()}`);
        problems.push(`${label} RRSIG unusable: ${why.join(', ')}`);
      }
    }
    if (problems.length) broken.push(`${zone}: ${problems.join('; ')}`);
    else fine.push(`${zone}: ${keys.length} DNSKEYs, SOA and DNSKEY RRSIGs in their validity window`);
  }
  if (missing.length) {
    report(ctx, { id: 'dnssec-missing', severity: 'warning', title: 'Zone not signed with DNSSEC', evidence: missing.join('; ') });
  }
  if (broken.length) {
    report(ctx, { id: 'dnssec-broken', severity: 'high', title: 'DNSSEC signatures are missing, expired or unmatched', evidence: broken.join('; ') });
  }
  if (fine.length) note(ctx, 'dnssec', 'pass', fine.join('; '));
}

