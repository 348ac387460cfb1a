import { makeMessage, Name, Rcode, recordFromText, RRType, type Message, type ResourceRecord } from '../wire/index.js';
import { UpstreamError, type QueryOptions, type ServerAddress, type Upstream } from './types.js';

/** One zone as a fake authoritative server holds it. */
export interface FakeZone {
  readonly origin: Name;
  readonly records: ResourceRecord[];
}

/**
 * An Upstream that answers from zone data held per server address, like small authoritative
 * servers would (referrals with glue, CNAME, DNAME, NXDOMAIN/NODATA with the SOA), with no
 * network. For tests and examples: it counts queries, and addresses can be taken down.
 */
export class FakeUpstream implements Upstream {
  private readonly servers = new Map<string, FakeZone[]>();
  readonly log: Array<{ server: string; qname: string; qtype: number; tcp: boolean }> = [];
  readonly down = new Set<string>();
  /** Optional hook to rewrite or replace an answer (broken servers, spoofing tests). */
  tamper?: (server: ServerAddress, query: Message, answer: Message) => Message | undefined;
  /** Delay before answering (ms of real time), so concurrent questions overlap. */
  delayMs = 0;

  /** Serves a zone given as zone-file lines (absolute names) from the listed addresses. */
  serve(addresses: string[], origin: string, lines: string[]): this {
    const zone: FakeZone = { origin: Name.parse(origin), records: lines.map((l) => recordFromText(l)) };
    for (const a of addresses) this.servers.set(a, [...(this.servers.get(a) ?? []), zone]);
    return this;
  }

  async query(server: ServerAddress, msg: Message, opts: QueryOptions): Promise<Message> {
    const q = msg.question[0]!;
    this.log.push({ server: server.address, qname: q.name.toString(), qtype: q.type, tcp: opts.tcp });
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.down.has(server.address) || !this.servers.has(server.address)) {
      throw new UpstreamError('timeout', `fake: ${server.address} does not answer`);
    }
    const answer = this.answer(this.servers.get(server.address)!, msg);
    const out = this.tamper ? this.tamper(server, msg, answer) : answer;
    if (!out) throw new UpstreamError('timeout', `fake: ${server.address} dropped the answer`);
    return out;
  }

  /** Adds a zone given as records (signed zones built in tests). */
  serveRecords(addresses: string[], origin: string, records: ResourceRecord[]): this {
    const zone: FakeZone = { origin: Name.parse(origin), records };
    for (const a of addresses) this.servers.set(a, [...(this.servers.get(a) ?? []), zone]);
    return this;
  }

  private answer(zones: FakeZone[], query: Message): Message {
    const plain = this.answerPlain(zones, query);
    if (!query.edns?.do) return plain;
    // DO=1: the RRSIGs of every RRset sent, DS (or the NSEC denying it) with referrals, and NSEC
    // proofs with negative answers (RFC 4035 §3.1), as a signed authoritative server would.
    const q = query.question[0]!;
    const zone = zones.filter((z) => q.name.isSubdomainOf(z.origin)).sort((a, b) => b.origin.labelCount - a.origin.labelCount)[0];
    if (!zone) return plain;
    const sigs = (rrs: ResourceRecord[]) => zone.records.filter((r) => r.type === RRType.RRSIG
      && rrs.some((x) => x.name.equals(r.name) && (r.data as { typeCovered: number }).typeCovered === x.type));
    const nsecAt = (n: Name) => zone.records.filter((r) => r.type === RRType.NSEC && r.name.equals(n));
    const covering = (n: Name) => zone.records.filter((r) => r.type === RRType.NSEC && r.name.compare(n) < 0
      && (n.compare((r.data as { next: Name }).next) < 0 || (r.data as { next: Name }).next.equals(zone.origin)));
    const withSigs = (rrs: ResourceRecord[]) => [...rrs, ...sigs(dedupeSets(rrs))];
    const out = { ...plain, edns: { udpSize: 1232, version: 0, do: true, z: 0, options: [] } };
    out.answer = withSigs(plain.answer);
    if (plain.authority.some((r) => r.type === RRType.NS) && !plain.aa) {
      const cut = plain.authority[0]!.name;
      const ds = zone.records.filter((r) => r.type === RRType.DS && r.name.equals(cut));
      out.authority = [...plain.authority, ...withSigs(ds.length > 0 ? ds : nsecAt(cut))];
    } else if (plain.answer.length === 0 || plain.rcode === Rcode.NXDOMAIN) {
      const proof: ResourceRecord[] = [];
      if (plain.rcode === Rcode.NXDOMAIN) {
        const cover = covering(q.name).slice(-1);
        proof.push(...cover);
        // The wildcard at the closest encloser does not exist either.
        let ce = q.name.parent();
        while (!zone.records.some((r) => r.name.isSubdomainOf(ce)) && ce.labelCount > zone.origin.labelCount) ce = ce.parent();
        for (const r of covering(ce.prepend('*')).slice(-1)) if (!proof.includes(r)) proof.push(r);
      } else {
        const at = nsecAt(q.name);
        proof.push(...(at.length > 0 ? at : covering(q.name).slice(-1)));
      }
      out.authority = withSigs([...plain.authority, ...proof]);
    }
    return out;
  }

  private answerPlain(zones: FakeZone[], query: Message): Message {
    const q = query.question[0]!;
    const reply = makeMessage({ id: query.id, qr: true, rd: query.rd, question: query.question, edns: query.edns ? { udpSize: 1232, version: 0, do: false, z: 0, options: [] } : undefined });
    const zone = zones.filter((z) => q.name.isSubdomainOf(z.origin)).sort((a, b) => b.origin.labelCount - a.origin.labelCount)[0];
    if (!zone) return { ...reply, rcode: Rcode.REFUSED };
    const soa = zone.records.filter((r) => r.type === RRType.SOA && r.name.equals(zone.origin));
    let sname = q.name;
    const answer: ResourceRecord[] = [];
    for (let hops = 0; hops < 8; hops++) {
      // Delegation between the apex and the name?
      for (let n = sname; n.labelCount > zone.origin.labelCount; n = n.parent()) {
        const ns = zone.records.filter((r) => r.type === RRType.NS && r.name.equals(n));
        if (ns.length > 0 && !(q.type === RRType.DS && n.equals(sname))) {
          if (answer.length > 0) return { ...reply, aa: true, answer };
          const targets = ns.map((r) => (r.data as { target: Name }).target);
          const glue = zone.records.filter((r) => (r.type === RRType.A || r.type === RRType.AAAA) && targets.some((t) => t.equals(r.name)));
          return { ...reply, authority: ns, additional: glue };
        }
      }
      const at = zone.records.filter((r) => r.name.equals(sname));
      const match = at.filter((r) => r.type === q.type);
      if (match.length > 0) {
        // An NS answer carries the addresses of its servers, as for priming (RFC 8109 §3).
        const targets = q.type === RRType.NS ? match.map((r) => (r.data as { target: Name }).target) : [];
        const additional = zone.records.filter((r) => (r.type === RRType.A || r.type === RRType.AAAA) && targets.some((t) => t.equals(r.name)));
        return { ...reply, aa: true, answer: [...answer, ...match], additional };
      }
      const cname = at.find((r) => r.type === RRType.CNAME);
      if (cname && q.type !== RRType.CNAME) {
        answer.push(cname);
        sname = (cname.data as { target: Name }).target;
        if (!sname.isSubdomainOf(zone.origin)) return { ...reply, aa: true, answer };
        continue;
      }
      const dname = zone.records.find((r) => r.type === RRType.DNAME && sname.isSubdomainOf(r.name) && !sname.equals(r.name));
      if (dname) {
        const target = sname.replaceSuffix(dname.name, (dname.data as { target: Name }).target);
        answer.push(dname, { name: sname, type: RRType.CNAME, class: q.class, ttl: dname.ttl, data: { target } });
        sname = target;
        if (!sname.isSubdomainOf(zone.origin)) return { ...reply, aa: true, answer };
        continue;
      }
      const exists = zone.records.some((r) => r.name.isSubdomainOf(sname));
      return { ...reply, aa: true, rcode: exists ? Rcode.NOERROR : Rcode.NXDOMAIN, answer, authority: soa };
    }
    return { ...reply, rcode: Rcode.SERVFAIL };
  }

  /** Queries of one type sent (DS and DNSKEY fetches in validation tests). */
  countType(qtype: number): number {
    return this.log.filter((l) => l.qtype === qtype).length;
  }

  /** Queries sent to one address (or all). */
  count(address?: string): number {
    return address ? this.log.filter((l) => l.server === address).length : this.log.length;
  }
}

function dedupeSets(rrs: ResourceRecord[]): ResourceRecord[] {
  const seen = new Set<string>();
  return rrs.filter((r) => {
    const k = `${r.name.key}/${r.type}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
