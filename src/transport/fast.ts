// The synchronous fast path for plain UDP queries (DESIGN.md "How a query flows": the hot path).
//
// A query that is nothing but a question (and an OPT without options) is read in place, without
// building a Message, and offered to the steps' synchronous `fast` methods. A step answers from
// what it has ready (a precompiled answer), passes it on, or says SLOW; SLOW sends the datagram
// down the ordinary asynchronous pipeline, which gives exactly the same answer, only slower.
// Steps change nothing (counters, windows, buckets) until an answer is certain, so a query that
// goes SLOW halfway is seen once, by the slow path.
import { formatIPv6, type Name } from '../wire/index.js';
import type { Endpoint } from './handler.js';

/** What a fast step returns: bytes to send, FAST_DROP (send nothing), or SLOW. */
export type FastResult = Uint8Array | null | undefined;
export const SLOW = undefined;
export const FAST_DROP = null;

export type FastNext = (q: FastQuery) => FastResult;
export type FastHandler = (q: FastQuery) => FastResult;

/**
 * One plain query, read in place. `raw` is only valid during the synchronous call (the
 * transport reuses its buffers). Transports reuse one FastQuery; `reset` clears what steps set.
 */
export class FastQuery {
  raw: Uint8Array = EMPTY;
  /** Offset just past the question name (the type follows). */
  qnameEnd = 0;
  qtype = 0;
  qclass = 0;
  /** The query had an OPT record (then `udpSize` and `do` are its values). */
  edns = false;
  udpSize = 0;
  do = false;
  /** Offset and length of the data of a COOKIE option (RFC 7873), 0 when there is none. */
  cookieOffset = 0;
  cookieLength = 0;
  /** questionHash of the question (the authoritative step's answer table is keyed by it). */
  hash = 0;
  /** `key`, once built for this query. */
  keyText: string | undefined = undefined;
  client = '';
  clientPort = 0;
  family: 4 | 6 = 4;
  local: Endpoint = NO_ENDPOINT;
  listener = '';
  /** performance.now() when the datagram was read. */
  receivedAt = 0;
  /** Date.now() when the datagram was read (read once per batch). */
  time = 0;
  /**
   * Scratch space for the reply: a step may build its answer here and return a view of it;
   * later steps may then append in place. The batched transport points it at the send slot of
   * the datagram being answered (nothing to copy then); otherwise the transport copies the
   * reply out before the next query.
   */
  out: Uint8Array = Buffer.allocUnsafe(65536 + 512);
  /** Views of `out` by length, made by `outView`; replaced with `out` (`useOut`). */
  private outViews: (Uint8Array | undefined)[] = [];

  /** Makes `buffer` the reply's scratch space, with its own cache of views (see `outView`). */
  useOut(buffer: Uint8Array, views: (Uint8Array | undefined)[]): void {
    this.out = buffer;
    this.outViews = views;
  }

  /**
   * out[0, n), as a view kept for the next reply of that length. A typed-array view is an
   * object of about 100 bytes, and an answer took two (the answer, then the answer with its
   * OPT): at 50,000 queries a second that was most of the garbage the fast path made.
   * Whoever gets a view reads it before the next query, as with `out` itself.
   */
  outView(n: number): Uint8Array {
    return keptView(this.out, this.outViews, n);
  }

  // Set by steps on the way (the fast counterparts of Request.state).
  viewIndex = 0;
  view: string | undefined = undefined;
  recursionAllowed = false;
  recursive = false;
  cached = false;
  rateLimited = false;
  /** The zone that answered (its origin as text). */
  zone: string | undefined = undefined;
  /** The question name, when a step has it as a Name (the monitor and rate limiter use it). */
  qname: Name | undefined = undefined;
  /** The query carried a valid server cookie (no rate limit, no amplification cap). */
  validCookie = false;
  /** The COOKIE option data for the reply (client cookie + our server cookie). */
  cookieResponse: Uint8Array | undefined = undefined;

  /**
   * The question's key as text (`wireQuestionKey`: the bytes the answer tables key on, as
   * latin1); built only when asked for, which the answer path never does (it uses `hash`).
   */
  get key(): string {
    return (this.keyText ??= wireQuestionKey(this.raw, this.qnameEnd, this.do));
  }

  reset(): void {
    this.viewIndex = 0;
    this.view = undefined;
    this.recursionAllowed = false;
    this.recursive = false;
    this.cached = false;
    this.rateLimited = false;
    this.zone = undefined;
    this.qname = undefined;
    this.validCookie = false;
    this.cookieResponse = undefined;
  }
}

const EMPTY = new Uint8Array(0);
/** Longest reply or query whose view is kept (`outView`, `ViewCache`): past any usual UDP size. */
const VIEW_CACHE_MAX = 4096;

/**
 * Views of one buffer's first n bytes, by n, made once each: the batched transport reads each
 * datagram through one (a slot of its receive buffer) instead of a new `subarray` per query.
 */
export class ViewCache {
  private readonly views: (Uint8Array | undefined)[] = [];
  constructor(private readonly buffer: Uint8Array) {}

  get(n: number): Uint8Array {
    return keptView(this.buffer, this.views, n);
  }
}

/** buffer[0, n) from `views` (by n), made and kept there the first time; fresh above the cap. */
function keptView(buffer: Uint8Array, views: (Uint8Array | undefined)[], n: number): Uint8Array {
  if (n > VIEW_CACHE_MAX) return buffer.subarray(0, n);
  let v = views[n];
  if (v === undefined) views[n] = v = buffer.subarray(0, n);
  return v;
}

const NO_ENDPOINT: Endpoint = { address: '', port: 0, family: 4 };

const TYPE_OPT = 41;
const OPTION_COOKIE = 10;
const CLASS_IN = 1;

/**
 * Fills `q` from `raw` when the message is a plain query the fast path may take: QR=0,
 * opcode QUERY, TC clear, one question with an uncompressed name, class IN, a type that is
 * looked up (not ANY, AXFR, IXFR, OPT, TSIG, TKEY, MAILA, MAILB), no answer or authority
 * records, and either nothing after the question or exactly one OPT record with version 0 and
 * no option or one COOKIE option, ending the message. Anything else returns false (the slow
 * path decides).
 */
export function parseFastQuery(raw: Uint8Array, q: FastQuery): boolean {
  const len = raw.length;
  if (len < 17) return false;
  // QR, opcode, TC: all zero; QDCOUNT 1; ANCOUNT and NSCOUNT 0; ARCOUNT 0 or 1.
  if ((raw[2]! & 0xfa) !== 0) return false;
  if (raw[4] !== 0 || raw[5] !== 1 || raw[6] !== 0 || raw[7] !== 0 || raw[8] !== 0 || raw[9] !== 0 || raw[10] !== 0) return false;
  const arcount = raw[11]!;
  if (arcount > 1) return false;
  let off = 12;
  for (;;) {
    if (off >= len) return false;
    const l = raw[off]!;
    if (l === 0) break;
    if (l > 63) return false;
    off += l + 1;
  }
  const end = off + 1;
  if (end - 12 > 255 || end + 4 > len) return false;
  const qtype = (raw[end]! << 8) | raw[end + 1]!;
  const qclass = (raw[end + 2]! << 8) | raw[end + 3]!;
  if (qclass !== CLASS_IN || !lookedUp(qtype)) return false;
  let p = end + 4;
  if (arcount === 1) {
    // root owner, type OPT, class = payload size, TTL = ext-rcode, version, flags; RDLENGTH
    if (p + 11 > len || raw[p] !== 0 || raw[p + 1] !== 0 || raw[p + 2] !== TYPE_OPT || raw[p + 6] !== 0) return false;
    const rdlen = (raw[p + 9]! << 8) | raw[p + 10]!;
    if (p + 11 + rdlen !== len) return false;
    q.cookieOffset = 0;
    q.cookieLength = 0;
    if (rdlen !== 0) {
      // Only one option, COOKIE (code 10), filling the RDATA.
      const olen = rdlen >= 4 ? (raw[p + 13]! << 8) | raw[p + 14]! : -1;
      if (raw[p + 11] !== 0 || raw[p + 12] !== OPTION_COOKIE || olen + 4 !== rdlen) return false;
      q.cookieOffset = p + 15;
      q.cookieLength = olen;
    }
    q.edns = true;
    q.udpSize = (raw[p + 3]! << 8) | raw[p + 4]!;
    q.do = (raw[p + 7]! & 0x80) !== 0;
  } else {
    if (p !== len) return false;
    q.edns = false;
    q.udpSize = 0;
    q.do = false;
    q.cookieOffset = 0;
    q.cookieLength = 0;
  }
  q.raw = raw;
  q.qnameEnd = end;
  q.qtype = qtype;
  q.qclass = qclass;
  q.keyText = undefined;
  q.hash = questionHash(raw, end, q.do);
  return true;
}

/** Types a zone lookup answers; meta types and ANY take the slow path. */
function lookedUp(t: number): boolean {
  return t !== 0 && t !== TYPE_OPT && (t < 249 || t > 255);
}

/** Scratch space for wireQuestionKey: a name of at most 255 octets, type, class and DO. */
const keyScratch = Buffer.alloc(256 + 5);

/**
 * The key of a question whose (uncompressed) name starts at offset 12 and ends at `end`: the
 * name's wire bytes ASCII-folded to lower case, then the type and class bytes and the DO bit,
 * as one latin1 string. The answer tables (authoritative/answer-table.ts) keep these same
 * bytes; `questionHash` and `questionKeyMatches` work on them without building the string.
 */
export function wireQuestionKey(raw: Uint8Array, end: number, dnssec: boolean): string {
  const n = end - 12;
  for (let i = 0; i < n; i++) {
    const c = raw[12 + i]!;
    // Label lengths are at most 63, below 'A', so only letters change.
    keyScratch[i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
  }
  keyScratch[n] = raw[end]!;
  keyScratch[n + 1] = raw[end + 1]!;
  keyScratch[n + 2] = raw[end + 2]!;
  keyScratch[n + 3] = raw[end + 3]!;
  keyScratch[n + 4] = dnssec ? 1 : 0;
  return keyScratch.toString('latin1', 0, n + 5);
}

/**
 * FNV-1a of the bytes wireQuestionKey would give (the name ASCII-folded to lower case, type,
 * class, DO) for a question whose uncompressed name starts at offset 12 and ends at `end`,
 * read straight from the message: no key string per query.
 */
export function questionHash(raw: Uint8Array, end: number, dnssec: boolean): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 12; i < end; i++) {
    const c = raw[i]!;
    h = Math.imul(h ^ (c >= 0x41 && c <= 0x5a ? c | 0x20 : c), 0x01000193);
  }
  h = Math.imul(h ^ raw[end]!, 0x01000193);
  h = Math.imul(h ^ raw[end + 1]!, 0x01000193);
  h = Math.imul(h ^ raw[end + 2]!, 0x01000193);
  h = Math.imul(h ^ raw[end + 3]!, 0x01000193);
  return Math.imul(h ^ (dnssec ? 1 : 0), 0x01000193);
}

/**
 * True when the key bytes at `at` in `keys` (as wireQuestionKey writes them) are those of the
 * question in `raw` whose name ends at `end`. The caller has checked the key's length.
 */
export function questionKeyMatches(keys: Uint8Array, at: number, raw: Uint8Array, end: number, dnssec: boolean): boolean {
  let k = at;
  for (let i = 12; i < end; i++, k++) {
    const c = raw[i]!;
    if (keys[k] !== (c >= 0x41 && c <= 0x5a ? c | 0x20 : c)) return false;
  }
  return keys[k] === raw[end] && keys[k + 1] === raw[end + 1] && keys[k + 2] === raw[end + 2] && keys[k + 3] === raw[end + 3] && keys[k + 4] === (dnssec ? 1 : 0);
}

/** IPv4 and IPv6 addresses as text, remembered: a busy client sends many queries. */
const v4Text = new Map<number, string>();
const v6Text = new Map<string, string>();
const ADDRESS_TEXT_MAX = 8192;

/** The text of a 4- or 16-byte address at `off` in `b`, as node:dgram would give it. */
export function addressText(b: Uint8Array, off: number, family: 4 | 6): string {
  if (family === 4) {
    const n = ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
    let s = v4Text.get(n);
    if (s === undefined) {
      if (v4Text.size >= ADDRESS_TEXT_MAX) v4Text.clear();
      s = `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
      v4Text.set(n, s);
    }
    return s;
  }
  const k = Buffer.from(b.buffer, b.byteOffset + off, 16).toString('latin1');
  let s = v6Text.get(k);
  if (s === undefined) {
    if (v6Text.size >= ADDRESS_TEXT_MAX) v6Text.clear();
    s = ipv6Text(b, off);
    v6Text.set(k, s);
  }
  return s;
}

/** RFC 5952 text as inet_ntop gives it: formatIPv6, but IPv4-mapped addresses end dotted-quad. */
export function ipv6Text(b: Uint8Array, off: number): string {
  let mapped = b[off + 10] === 0xff && b[off + 11] === 0xff;
  for (let i = 0; mapped && i < 10; i++) mapped = b[off + i] === 0;
  if (mapped) return `::ffff:${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
  return formatIPv6(b, off);
}
