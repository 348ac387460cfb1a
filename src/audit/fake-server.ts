/**
 * A scriptable DNS server on loopback, for the audit's unit tests (and for anyone who needs a
 * target with known flaws). It serves one zone from a record list and can be made careless or
 * hardened flag by flag: recursion for a probe name, open transfers, version strings, NSID,
 * rate limiting, cookies, minimal ANY, broken EDNS. Built on node:dgram/node:net and our codec.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import {
  decodeMessage, EdnsOptionCode, encodeMessage, getOption, makeMessage, Name, Opcode, Rcode, RRClass, RRType,
  type Edns, type EdnsOption, type Message, type ResourceRecord,
} from '../wire/index.js';

export interface FakeServerOptions {
  address: string;
  port: number;
  zone: Name;
  records: ResourceRecord[];
  udp?: boolean;
  tcp?: boolean;
  /** Recurse for this name (answer it with `recursionAddress`, AA clear, RA set) and cache it. */
  recursionName?: Name;
  recursionAddress?: string;
  allowTransfer?: boolean;
  version?: string;
  hostname?: string;
  nsid?: string;
  /** Answers per second for identical questions; the rest alternate TC slips and drops. */
  rateLimit?: number;
  cookies?: boolean;
  minimalAny?: boolean;
  /** Ignore the EDNS version (no BADVERS) and echo unknown options and flags. */
  brokenEdns?: boolean;
  /** Over TCP, answer with TC set and no records (a broken TCP path). */
  brokenTcp?: boolean;
}

export interface FakeServer {
  readonly queries: number;
  close(): Promise<void>;
}

function txt(name: Name, cls: number, text: string): ResourceRecord {
  return { name, type: RRType.TXT, class: cls, ttl: 0, data: { strings: [Buffer.from(text)] } };
}

export async function startFakeServer(o: FakeServerOptions): Promise<FakeServer> {
  const cache = new Map<string, ResourceRecord[]>();
  const buckets = new Map<string, { second: number; count: number }>();
  let queries = 0;

  function reply(q: Message, init: Partial<Message>): Message {
    const m = makeMessage({ id: q.id, qr: true, opcode: q.opcode, rd: q.rd, cd: q.cd, question: q.question, ...init });
    if (q.edns) {
      const options: EdnsOption[] = [];
      if (o.nsid && getOption(q.edns, EdnsOptionCode.NSID)) options.push({ code: EdnsOptionCode.NSID, data: Buffer.from(o.nsid) });
      const cookie = getOption(q.edns, EdnsOptionCode.COOKIE);
      if (o.cookies && cookie && cookie.data.length >= 8) {
        const data = new Uint8Array(24);
        data.set(cookie.data.subarray(0, 8));
        data.set(randomBytes(16), 8);
        options.push({ code: EdnsOptionCode.COOKIE, data });
      }
      if (o.brokenEdns) options.push(...q.edns.options.filter((x) => x.code !== EdnsOptionCode.NSID && x.code !== EdnsOptionCode.COOKIE));
      const edns: Edns = { udpSize: 1232, version: 0, do: q.edns.do, z: o.brokenEdns ? q.edns.z : 0, options };
      m.edns = edns;
    }
    return m;
  }

  function answer(q: Message, tcp: boolean): Message[] {
    if (q.opcode !== Opcode.QUERY) return [reply(q, { rcode: Rcode.NOTIMP, question: [] })];
    if (q.edns && q.edns.version > 0 && !o.brokenEdns) return [reply(q, { rcode: Rcode.BADVERS, question: [] })];
    const question = q.question[0];
    if (!question) return [reply(q, { rcode: Rcode.FORMERR })];
    const qn = question.name;
    if (question.class === RRClass.CH && question.type === RRType.TXT) {
      const text = qn.key === 'version.bind.' || qn.key === 'version.server.' ? o.version : qn.key === 'hostname.bind.' || qn.key === 'id.server.' ? o.hostname : undefined;
      return [text ? reply(q, { aa: true, answer: [txt(qn, RRClass.CH, text)] }) : reply(q, { rcode: Rcode.REFUSED })];
    }
    if (o.recursionName && qn.equals(o.recursionName)) {
      const a: ResourceRecord = { name: qn, type: RRType.A, class: RRClass.IN, ttl: 300, data: { address: o.recursionAddress ?? '192.0.2.80' } };
      if (q.rd) {
        cache.set(qn.key, [a]);
        return [reply(q, { ra: true, answer: question.type === RRType.A ? [a] : [] })];
      }
      const hit = cache.get(qn.key);
      return [reply(q, { ra: true, answer: hit ?? [] })];
    }
    if (!qn.isSubdomainOf(o.zone)) return [reply(q, { rcode: Rcode.REFUSED, ra: false })];
    const soa = o.records.find((r) => r.type === RRType.SOA)!;
    if (question.type === RRType.AXFR || question.type === RRType.IXFR) {
      if (!tcp) return [reply(q, { rcode: Rcode.REFUSED })];
      if (!o.allowTransfer) return [reply(q, { rcode: Rcode.REFUSED })];
      const body = o.records.filter((r) => r.type !== RRType.SOA);
      const half = Math.ceil(body.length / 2);
      return [reply(q, { aa: true, answer: [soa, ...body.slice(0, half)] }), reply(q, { aa: true, answer: [...body.slice(half), soa] })];
    }
    if (tcp && o.brokenTcp) return [reply(q, { tc: true })];
    const atName = o.records.filter((r) => r.name.equals(qn));
    if (atName.length === 0) return [reply(q, { aa: true, rcode: Rcode.NXDOMAIN, authority: [soa] })];
    let data = question.type === RRType.ANY ? atName.filter((r) => r.type !== RRType.RRSIG) : atName.filter((r) => r.type === question.type);
    if (question.type === RRType.ANY && o.minimalAny) data = data.filter((r) => r.type === data[0]?.type);
    // RRSIGs ride along when DO is set, as DNSSEC-aware servers do.
    if (q.edns?.do) data = [...data, ...atName.filter((r) => r.type === RRType.RRSIG && data.some((d) => d.type === coveredType(r)))];
    return [reply(q, { aa: true, answer: data, authority: data.length ? [] : [soa] })];
  }

  function limited(q: Message): 'ok' | 'slip' | 'drop' {
    if (!o.rateLimit) return 'ok';
    const key = q.question[0] ? `${q.question[0].name.key}/${q.question[0].type}` : '';
    const second = Math.floor(Date.now() / 1000);
    const b = buckets.get(key);
    if (!b || b.second !== second) {
      buckets.set(key, { second, count: 1 });
      return 'ok';
    }
    b.count++;
    if (b.count <= o.rateLimit) return 'ok';
    return b.count % 2 ? 'slip' : 'drop';
  }

  function handle(raw: Uint8Array, tcp: boolean): Uint8Array[] {
    queries++;
    let q: Message;
    try {
      q = decodeMessage(raw);
    } catch {
      return [];
    }
    if (q.qr) return [];
    if (!tcp) {
      const verdict = limited(q);
      if (verdict === 'drop') return [];
      if (verdict === 'slip') return [encodeMessage(reply(q, { tc: true }))];
    }
    const maxSize = tcp ? 65535 : q.edns ? Math.max(512, Math.min(q.edns.udpSize, 4096)) : 512;
    return answer(q, tcp).map((m) => encodeMessage(m, { maxSize }));
  }

  const udp = dgram.createSocket('udp4');
  const tcpServer = net.createServer((sock) => {
    let buf: Buffer = Buffer.alloc(0);
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const msg = new Uint8Array(buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
        for (const out of handle(msg, true)) {
          const framed = Buffer.alloc(2 + out.length);
          framed.writeUInt16BE(out.length, 0);
          framed.set(out, 2);
          sock.write(framed);
        }
      }
    });
  });
  if (o.udp !== false) {
    udp.on('message', (msg, rinfo) => {
      for (const out of handle(new Uint8Array(msg), false)) udp.send(out, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(o.port, o.address, () => resolve());
    });
  }
  if (o.tcp !== false) {
    await new Promise<void>((resolve, reject) => {
      tcpServer.once('error', reject);
      tcpServer.listen(o.port, o.address, () => resolve());
    });
  }
  return {
    get queries() {
      return queries;
    },
    async close() {
      if (o.udp !== false) await new Promise<void>((r) => udp.close(() => r()));
      if (o.tcp !== false) await new Promise<void>((r) => tcpServer.close(() => r()));
    },
  };
}

function coveredType(rrsig: ResourceRecord): number {
  if (rrsig.data instanceof Uint8Array) return (rrsig.data[0]! << 8) | rrsig.data[1]!;
  return (rrsig.data as { typeCovered?: number }).typeCovered ?? -1;
}
