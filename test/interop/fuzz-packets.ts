// Malformed and mutated DNS messages for robustness tests of the running server (and of the
// pipeline in-process). Seeds are real queries for the example zone (with every EDNS option we
// know, records in every section); each packet is a seed broken in one of several ways: random
// bytes, truncation, bit flips, absurd section counts, compression pointer loops, broken OPT
// records, illegal labels, responses, odd opcodes/flags/types, bad RDLENGTHs, splices. The
// generator is deterministic for a seed so any failure can be replayed.
import {
  EdnsOptionCode, Name, RRClass, RRType, encodeClientSubnet, encodeCookie, encodeKeepalive, encodeMessage, encodeNsid,
  encodePadding, makeMessage, recordFromText, type Edns, type EdnsOption, type Message,
} from '../../src/wire/index.js';

/** Small, fast, seedable PRNG (mulberry32). */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  byte(): number {
    return this.int(256);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

export const KINDS = [
  'valid', 'random', 'truncated', 'flip', 'counts', 'compression', 'edns', 'labels', 'response', 'header', 'rdlength', 'splice',
] as const;
export type Kind = (typeof KINDS)[number];

/** Relative frequency of each kind (valid seeds keep the answer path busy). */
const WEIGHTS: Record<Kind, number> = {
  valid: 6, random: 10, truncated: 10, flip: 16, counts: 8, compression: 10, edns: 14, labels: 6, response: 4, header: 8, rdlength: 6, splice: 4,
};

const NAMES = [
  'example.test.', 'www.example.test.', 'ftp.example.test.', 'api.example.test.', 'big.example.test.', 'x.apps.example.test.',
  'deep.x.apps.example.test.', 'sub.example.test.', 'host.sub.example.test.', 'nothere.example.test.', '_sip._udp.example.test.',
  'info.example.test.', 'other.invalid.', '.', 'version.bind.', 'WwW.ExAmPlE.TeSt.',
];
const TYPES = [
  RRType.A, RRType.AAAA, RRType.NS, RRType.SOA, RRType.MX, RRType.TXT, RRType.CNAME, RRType.SRV, RRType.ANY, RRType.AXFR,
  RRType.IXFR, RRType.DNSKEY, RRType.DS, RRType.NSEC, RRType.RRSIG, RRType.HTTPS, 41, 250, 0, 65535, 3, 4, 253, 254, 65280,
];

function ednsWith(options: EdnsOption[], init: Partial<Edns> = {}): Edns {
  return { udpSize: 1232, version: 0, do: false, z: 0, options, ...init };
}

/** Well-formed messages that the broken ones are made from. */
export function seedMessages(): Message[] {
  const out: Message[] = [];
  let id = 1;
  const optionSets: EdnsOption[][] = [
    [],
    [encodeCookie({ client: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) })],
    [encodeCookie({ client: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), server: new Uint8Array(16).fill(0xab) })],
    [encodeNsid(new Uint8Array(0))],
    [encodeClientSubnet({ family: 1, sourcePrefix: 24, scopePrefix: 0, address: '192.0.2.0' })],
    [encodeClientSubnet({ family: 2, sourcePrefix: 56, scopePrefix: 0, address: '2001:db8::' })],
    [encodeKeepalive(), encodePadding(64)],
    [{ code: EdnsOptionCode.EXPIRE, data: new Uint8Array(0) }, { code: 65001, data: Uint8Array.of(0xde, 0xad) }],
  ];
  for (const name of NAMES) {
    for (const type of [RRType.A, RRType.TXT, RRType.ANY, RRType.SOA]) {
      const q = { name: Name.parse(name), type, class: name === 'version.bind.' ? RRClass.CH : RRClass.IN };
      out.push(makeMessage({ id: id++, question: [q] }));
      const opts = optionSets[id % optionSets.length]!;
      out.push(makeMessage({ id: id++, rd: id % 3 === 0, question: [q], edns: ednsWith(opts, { do: id % 2 === 0, udpSize: id % 5 === 0 ? 512 : 4096 }) }));
    }
  }
  // Records in every section of a query (as UPDATE and NOTIFY carry them): the record decoders
  // get exercised by the mutations below.
  const records = [
    'example.test. 300 IN SOA ns1.example.test. hostmaster.example.test. 1 2 3 4 5',
    'www.example.test. 300 IN A 192.0.2.1',
    'www.example.test. 300 IN AAAA 2001:db8::1',
    'example.test. 300 IN MX 10 mail.example.test.',
    'example.test. 300 IN TXT "hello" "world"',
    '_sip._udp.example.test. 300 IN SRV 0 5 5060 sip.example.test.',
    'example.test. 300 IN NSEC www.example.test. A NS SOA MX RRSIG NSEC DNSKEY TYPE1234',
    'example.test. 300 IN DNSKEY 257 3 8 AwEAAbmiLgh411Pz3v3XCSBrvYf52A/Gv55ItN1NbOLHCqt3Ec3p+VB/kQ87',
    'example.test. 300 IN RRSIG A 8 2 300 20240101000000 20230101000000 12345 example.test. AQIDBAUGBwgJCgsMDQ4PEA==',
    'example.test. 300 IN SVCB 1 svc.example.test. alpn=h2,h3 port=8443 ipv4hint=192.0.2.1',
    'example.test. 300 IN CAA 0 issue "ca.example"',
    'example.test. 300 IN TYPE65534 \\# 3 abcdef',
  ].map((t) => recordFromText(t));
  for (let i = 0; i < 6; i++) {
    out.push(makeMessage({
      id: id++, opcode: i % 2 === 0 ? 0 : 5,
      question: [{ name: Name.parse('example.test.'), type: i % 2 === 0 ? RRType.A : RRType.SOA, class: RRClass.IN }],
      answer: records.slice(i, i + 4), authority: records.slice(i + 2, i + 6), additional: records.slice(i + 4, i + 8),
      edns: i % 3 === 0 ? ednsWith([encodeNsid(new Uint8Array(0))]) : undefined,
    }));
  }
  return out;
}

/** A well-formed query (for control queries and the `valid` share). */
export function seedWires(): Uint8Array[] {
  return seedMessages().map((m) => encodeMessage(m));
}

export interface FuzzPacket {
  kind: Kind;
  bytes: Uint8Array;
}

/**
 * Endless stream of broken packets. `maxSize` bounds each packet (UDP: keep it under 4096 so the
 * kernel accepts it; TCP frames may be up to 65535).
 */
export class PacketFuzzer {
  readonly counts: Record<Kind, number> = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
  private readonly rng: Prng;
  private readonly seeds: Uint8Array[];
  private readonly table: Kind[] = [];

  constructor(seed: number, readonly maxSize = 2048) {
    this.rng = new Prng(seed);
    this.seeds = seedWires();
    for (const k of KINDS) for (let i = 0; i < WEIGHTS[k]; i++) this.table.push(k);
  }

  next(): FuzzPacket {
    const kind = this.rng.pick(this.table);
    this.counts[kind]++;
    let bytes = this.make(kind);
    if (bytes.length > this.maxSize) bytes = bytes.subarray(0, this.maxSize);
    return { kind, bytes };
  }

  private seed(): Uint8Array {
    return new Uint8Array(this.rng.pick(this.seeds));
  }

  private make(kind: Kind): Uint8Array {
    const r = this.rng;
    switch (kind) {
      case 'valid':
        return this.withRandomId(this.seed());
      case 'random': {
        const b = new Uint8Array(r.int(r.chance(0.9) ? 64 : 1500));
        for (let i = 0; i < b.length; i++) b[i] = r.byte();
        // Half of them look like a one-question query so they get past the first checks.
        if (b.length >= 12 && r.chance(0.5)) {
          b[2] = b[2]! & 0x07;
          b[4] = 0;
          b[5] = 1;
        }
        return b;
      }
      case 'truncated': {
        const s = this.seed();
        return s.subarray(0, r.int(s.length));
      }
      case 'flip': {
        const s = this.seed();
        const n = 1 + r.int(8);
        for (let i = 0; i < n; i++) {
          const at = r.int(s.length);
          if (r.chance(0.5)) s[at] = s[at]! ^ (1 << r.int(8));
          else s[at] = r.byte();
        }
        s[2] = s[2]! & 0x7f; // keep QR=0 most of the time: responses are their own kind
        return s;
      }
      case 'counts': {
        const s = this.seed();
        const field = 4 + 2 * r.int(4);
        const v = r.pick([0, 2, 3, 0x7fff, 0xffff, r.int(0x10000)]);
        s[field] = v >> 8;
        s[field + 1] = v & 0xff;
        if (r.chance(0.3)) s.fill(0xff, 4, 12);
        return s;
      }
      case 'compression':
        return this.compression();
      case 'edns':
        return this.badEdns();
      case 'labels':
        return this.badLabels();
      case 'response': {
        const s = this.seed();
        s[2] = s[2]! | 0x80;
        return s;
      }
      case 'header': {
        const s = this.seed();
        // Random opcode (STATUS, NOTIFY, UPDATE, DSO, unassigned), rcode, Z/AD/CD/TC/AA bits,
        // and odd types and classes in the question.
        s[2] = (s[2]! & 0x81) | (r.int(16) << 3) | (r.byte() & 0x07);
        s[3] = r.byte() & 0x7f;
        const q = questionEnd(s);
        if (q !== undefined && r.chance(0.7)) {
          const t = r.pick(TYPES);
          s[q] = t >> 8;
          s[q + 1] = t & 0xff;
          const c = r.pick([1, 3, 4, 254, 255, 0, 2, r.int(0x10000)]);
          s[q + 2] = c >> 8;
          s[q + 3] = c & 0xff;
        }
        return s;
      }
      case 'rdlength':
        return this.badRdlength();
      case 'splice': {
        const a = this.seed();
        const b = this.seed();
        const cut = 12 + r.int(Math.max(1, a.length - 12));
        const out = new Uint8Array(cut + b.length - Math.min(b.length, 12 + r.int(Math.max(1, b.length - 12))));
        out.set(a.subarray(0, cut));
        out.set(b.subarray(b.length - (out.length - cut)), cut);
        return out;
      }
    }
  }

  private withRandomId(s: Uint8Array): Uint8Array {
    s[0] = this.rng.byte();
    s[1] = this.rng.byte();
    return s;
  }

  /** A one-question query header; the caller appends the question bytes. */
  private header(qd = 1, an = 0, ns = 0, ar = 0): number[] {
    const r = this.rng;
    return [r.byte(), r.byte(), 0x01, 0x00, qd >> 8, qd & 0xff, an >> 8, an & 0xff, ns >> 8, ns & 0xff, ar >> 8, ar & 0xff];
  }

  private compression(): Uint8Array {
    const r = this.rng;
    const tail = [0, 1, 0, 1];
    switch (r.int(7)) {
      case 0: // the question name points at itself
        return Uint8Array.from([...this.header(), 0xc0, 12, ...tail]);
      case 1: // two labels then a pointer back to the first: an endless name
        return Uint8Array.from([...this.header(), 3, 0x77, 0x77, 0x77, 0xc0, 12, ...tail]);
      case 2: { // a pointer past the end, or into the header
        const to = r.chance(0.5) ? 0x3fff : r.int(12);
        return Uint8Array.from([...this.header(), 0xc0 | (to >> 8), to & 0xff, ...tail]);
      }
      case 3: { // a long chain of pointers, each to the one before (deep but finite)
        const n = 10 + r.int(200);
        const body: number[] = [1, 0x61, 0];
        for (let i = 1; i < n; i++) {
          const prev = 12 + (i === 1 ? 0 : 3 + (i - 2) * 4);
          body.push(1, 0x61, 0xc0 | (prev >> 8), prev & 0xff);
        }
        const lastName = 12 + 3 + (n - 2) * 4;
        // qd=1: the question is the first name; the records' owners point far down the chain.
        const recs: number[] = [];
        for (let i = 0; i < 3; i++) recs.push(0xc0 | (lastName >> 8), lastName & 0xff, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1);
        return Uint8Array.from([...this.header(1, 3), ...body.slice(0, 3), ...tail, ...body.slice(3), ...recs]);
      }
      case 4: { // expands to more than 255 octets through pointers
        const labels: number[] = [];
        for (let i = 0; i < 4; i++) labels.push(63, ...new Array<number>(63).fill(0x61));
        return Uint8Array.from([...this.header(1, 1), ...labels, 0, ...tail, 63, ...new Array<number>(63).fill(0x62), 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0]);
      }
      case 5: { // a pointer in RDATA (an NS target) that loops
        const q = [3, 0x77, 0x77, 0x77, 0, 0, 2, 0, 1];
        const rrAt = 12 + q.length;
        return Uint8Array.from([...this.header(1, 0, 1), ...q, 0xc0, 12, 0, 2, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0 | (rrAt >> 8), (rrAt + 10) & 0xff]);
      }
      default: { // reserved label types 0x40 and 0x80 where a pointer would be
        const t = r.pick([0x40, 0x80, 0x41, 0x7f, 0xbf]);
        return Uint8Array.from([...this.header(), t, r.byte(), ...tail]);
      }
    }
  }

  private badLabels(): Uint8Array {
    const r = this.rng;
    const tail = [0, r.pick([1, 16, 255]), 0, 1];
    switch (r.int(4)) {
      case 0: { // a name longer than 255 octets without compression
        const labels: number[] = [];
        const n = 5 + r.int(4);
        for (let i = 0; i < n; i++) labels.push(63, ...new Array<number>(63).fill(0x61 + i));
        return Uint8Array.from([...this.header(), ...labels, 0, ...tail]);
      }
      case 1: { // 127+ one-byte labels
        const labels: number[] = [];
        for (let i = 0; i < 127 + r.int(10); i++) labels.push(1, 0x30 + (i % 10));
        return Uint8Array.from([...this.header(), ...labels, 0, ...tail]);
      }
      case 2: { // a label length running past the end
        return Uint8Array.from([...this.header(), 40, 0x61, 0x62, 0x63]);
      }
      default: { // binary junk inside labels (NUL, dots, high bytes): legal, must survive
        const len = 1 + r.int(63);
        const label = Array.from({ length: len }, () => r.byte());
        return Uint8Array.from([...this.header(), len, ...label, 7, ...'example'.split('').map((c) => c.charCodeAt(0)), 4, 0x74, 0x65, 0x73, 0x74, 0, ...tail]);
      }
    }
  }

  /** A query for www.example.test A with a broken OPT record. */
  private badEdns(): Uint8Array {
    const r = this.rng;
    const q = [3, 0x77, 0x77, 0x77, 7, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 4, 0x74, 0x65, 0x73, 0x74, 0, 0, 1, 0, 1];
    const opt = (owner: number[], size: number, ext: number, version: number, flags: number, rdata: number[], rdlen = rdata.length): number[] =>
      [...owner, 0, 41, size >> 8, size & 0xff, ext, version, flags >> 8, flags & 0xff, rdlen >> 8, rdlen & 0xff, ...rdata];
    const option = (code: number, data: number[], len = data.length): number[] => [code >> 8, code & 0xff, len >> 8, len & 0xff, ...data];
    const bytes = (n: number): number[] => Array.from({ length: n }, () => r.byte());
    let ar = 1;
    let rrs: number[];
    switch (r.int(12)) {
      case 0: // two OPT records (RFC 6891 §6.1.1: FORMERR)
        ar = 2;
        rrs = [...opt([0], 1232, 0, 0, 0, []), ...opt([0], 4096, 0, 0, 0x8000, [])];
        break;
      case 1: // OPT with a non-root owner
        rrs = opt([3, 0x61, 0x62, 0x63, 0], 1232, 0, 0, 0, []);
        break;
      case 2: // RDLENGTH beyond the message
        rrs = opt([0], 1232, 0, 0, 0, [0, 10, 0, 8, 1, 2], 200);
        break;
      case 3: // an option whose length runs past RDATA
        rrs = opt([0], 1232, 0, 0, 0, option(10, [1, 2, 3, 4, 5, 6, 7, 8], 60));
        break;
      case 4: // version 1..255 (BADVERS), odd payload sizes, unknown flag bits
        rrs = opt([0], r.pick([0, 1, 511, 512, 65535]), r.byte(), 1 + r.int(255), r.int(0x10000), []);
        break;
      case 5: // cookie option of every length 0..48
        rrs = opt([0], 1232, 0, 0, 0, option(10, bytes(r.int(49))));
        break;
      case 6: { // client subnet with bad family, prefix too long, address longer than the prefix
        const fam = r.pick([0, 1, 2, 3, 0xffff]);
        const data = [fam >> 8, fam & 0xff, r.pick([0, 24, 33, 129, 255]), r.pick([0, 24, 255]), ...bytes(r.int(20))];
        rrs = opt([0], 1232, 0, 0, 0, option(8, data));
        break;
      }
      case 7: { // hundreds of tiny options
        const data: number[] = [];
        for (let i = 0; i < 100 + r.int(300); i++) data.push(...option(r.int(0x10000), []));
        rrs = opt([0], 1232, 0, 0, 0, data);
        break;
      }
      case 8: // OPT in the answer section instead of the additional
        return Uint8Array.from([...this.header(1, 1, 0, 0), ...q, ...opt([0], 1232, 0, 0, 0, [])]);
      case 9: // NSID with data, keepalive / expire / padding with the wrong lengths, EDE in a query
        rrs = opt([0], 1232, 0, 0, 0, [
          ...option(3, bytes(r.int(20))), ...option(11, bytes(r.pick([1, 3, 4]))), ...option(9, bytes(r.pick([1, 2, 8]))),
          ...option(12, bytes(r.int(30)).map(() => 0xff)), ...option(15, bytes(r.int(10))),
        ]);
        break;
      case 10: // OPT class (payload) and TTL (rcode/version/flags) all ones, with DO
        rrs = opt([0], 0xffff, 0xff, 0xff, 0xffff, []);
        break;
      default: // an OPT record cut short inside its fixed part
        rrs = opt([0], 1232, 0, 0, 0, []).slice(0, 1 + r.int(9));
    }
    return Uint8Array.from([...this.header(1, 0, 0, ar), ...q, ...rrs]);
  }

  /** A seed with records whose RDLENGTH is wrong, or whose RDATA is cut. */
  private badRdlength(): Uint8Array {
    const r = this.rng;
    const s = this.seed();
    // Find the first record after the question and corrupt its RDLENGTH.
    const q = questionEnd(s);
    if (q === undefined) return s;
    let at = q + 4;
    const an = (s[6]! << 8) | s[7]!;
    const ns = (s[8]! << 8) | s[9]!;
    const ar = (s[10]! << 8) | s[11]!;
    if (an + ns + ar === 0 || at >= s.length) {
      // No records: append one with a lying RDLENGTH.
      s[11] = 1;
      const rr = [0, 0, r.pick([1, 2, 6, 15, 16, 28, 33, 46, 47, 48, 50, 64, 65, 250, 251]), 0, 1, 0, 0, 0, 60, 0xff, 0xff, 1, 2, 3];
      const out = new Uint8Array(s.length + rr.length);
      out.set(s);
      out.set(rr, s.length);
      return out;
    }
    const skip = skipName(s, at);
    if (skip === undefined || skip + 10 > s.length) return s;
    at = skip + 8;
    const len = (s[at]! << 8) | s[at + 1]!;
    const v = r.pick([0, 1, len - 1, len + 1, 0xffff, r.int(0x10000)]) & 0xffff;
    s[at] = v >> 8;
    s[at + 1] = v & 0xff;
    return s;
  }
}

/** Offset of the first question's type field, or undefined when it cannot be found. */
function questionEnd(s: Uint8Array): number | undefined {
  const end = skipName(s, 12);
  return end !== undefined && end + 4 <= s.length ? end : undefined;
}

/** Offset after a name at `at` (labels or a pointer), without following pointers. */
function skipName(s: Uint8Array, at: number): number | undefined {
  let p = at;
  while (p < s.length) {
    const l = s[p]!;
    if (l === 0) return p + 1;
    if ((l & 0xc0) === 0xc0) return p + 2;
    if (l & 0xc0) return undefined;
    p += 1 + l;
  }
  return undefined;
}
