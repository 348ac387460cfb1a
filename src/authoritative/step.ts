import type { Next, Reply, Request, Step } from '../transport/handler.js';
import { questionHash, wireQuestionKey, type FastQuery } from '../transport/fast.js';
import { AnswerTable } from './answer-table.js';
import { encodeMessage, HEADER_SIZE, makeMessage, Opcode, Rcode, RRClass, RRType, type Message, type Name, type Question, type ResourceRecord, type TxtData } from '../wire/index.js';
import { lookup, type Answer, type LookupOptions } from './lookup.js';
import type { Zone } from '../zone/zone.js';
import type { ZoneSet } from './zone-set.js';
import { anyShortcut, lookupAnyPolicy, type AnyMode } from './any.js';

export interface Identity {
  /** Answer for `version.bind` / `version.server` CH TXT. */
  version?: string;
  /** Answer for `hostname.bind` CH TXT (and `id.server` when serverId is not set). */
  hostname?: string;
  /** Answer for `id.server` CH TXT (RFC 4892). */
  serverId?: string;
}

export interface AuthoritativeOptions {
  identity?: Identity;
  /** qtype ANY (RFC 8482): `minimal` (default), `refuse`, `tcp` or `full`; see any.ts. */
  anyPolicy?: AnyMode;
  /** Passed to lookup(): CNAME chain limit and the qtype ANY policy. */
  lookup?: Pick<LookupOptions, 'maxChain' | 'anyPolicy'>;
  /**
   * Precompiled answers kept (default 100000; 0 turns the cache off). When full, the cache is
   * emptied and fills again: a flood of random names cannot grow it without bound.
   */
  answerCache?: number;
}

export const DEFAULT_ANSWER_CACHE = 100_000;

/** The CH TXT names that identify a server (BIND's and RFC 4892's). */
const IDENTITY_NAMES: ReadonlyMap<string, keyof Identity> = new Map([
  ['version.bind.', 'version'],
  ['version.server.', 'version'],
  ['hostname.bind.', 'hostname'],
  ['id.server.', 'serverId'],
]);

/**
 * The authoritative answer step (phase `answer`): answers QUERY for names inside the zones
 * served here, and the CH identity names; hands everything else to `next` (the resolver, or a
 * final REFUSED step). The response has no OPT: the finalize phase adds EDNS and truncates.
 */
export class AuthoritativeStep implements Step {
  readonly name = 'authoritative';
  readonly phase = 'answer' as const;

  /**
   * Encoded answers (no OPT) by question: the name's bytes (lower-cased), type and class as in
   * the query, and DO (answer-table.ts). Each entry remembers its zone, so a hit skips the zone
   * search too. A hit costs a hash of the query's question bytes and a copy and a patch of ID,
   * RD, CD and the question's case, instead of a lookup and an encode (DESIGN.md "How a query
   * flows", as NSD and Knot precompute). The zone's serial is checked on every hit, so an
   * in-place update rebuilds the answer. Names outside every zone are kept too (NO_ZONE, no
   * answer bytes), so the fast path passes them on without a zone search.
   */
  private cache: AnswerTable<CachedAnswer | typeof NO_ZONE>;
  /** The zone set the cache belongs to: a reload swaps the set and empties the cache. */
  private cacheZones: ZoneSet | undefined;
  private readonly cacheMax: number;
  private readonly origins = new WeakMap<Zone, string>();

  constructor(
    private readonly getZones: () => ZoneSet,
    private readonly opts: AuthoritativeOptions = {},
  ) {
    this.cacheMax = opts.answerCache ?? DEFAULT_ANSWER_CACHE;
    this.cache = new AnswerTable(this.cacheMax);
    if (opts.anyPolicy !== undefined) this.opts = { ...opts, lookup: { ...opts.lookup, anyPolicy: lookupAnyPolicy(opts.anyPolicy) } };
  }

  /** Number of precompiled answers held now (for tests and metrics). */
  get cachedAnswers(): number {
    return this.cache.size;
  }

  /** The entry of the last answer `fastHit` gave (read by `patch` right after it). */
  private lastEntry = -1;

  async handle(req: Request, next: Next): Promise<Reply> {
    const q = req.message;
    if (q.qr || q.opcode !== Opcode.QUERY || q.question.length !== 1) return next(req);
    const question = q.question[0]!;
    if (question.class === RRClass.CH) {
      const which = IDENTITY_NAMES.get(question.name.key);
      if (which) return { message: this.identityAnswer(q, which), reason: 'identity' };
    }
    // Zone transfers belong to the xfr step; meta types cannot be looked up in a zone.
    if (question.type === RRType.AXFR || question.type === RRType.IXFR) return next(req);
    // Read the zone set once: a reload swapping it mid-request cannot mix two versions.
    const zones = this.getZones();
    if (zones !== this.cacheZones) {
      this.cache = new AnswerTable(this.cacheMax);
      this.cacheZones = zones;
    }
    const dnssec = q.edns?.do === true;
    const raw = req.raw;
    // Kept answers are for uncompressed question names only (the answer's question lines up
    // with the query's byte for byte).
    let nameEnd = questionNameEnd(raw);
    if (nameEnd >= 0 && (nameEnd - HEADER_SIZE > 255 || nameEnd + 4 > raw.length)) nameEnd = -1;
    const keyed = this.cacheMax > 0 && nameEnd >= 0;
    const hash = keyed ? questionHash(raw, nameEnd, dnssec) : 0;
    const entry = keyed ? this.cache.find(raw, nameEnd, dnssec, hash) : -1;
    const hit = entry >= 0 ? this.cache.metaOf(entry) : undefined;
    if (hit === NO_ZONE) return next(req);
    const zone = hit !== undefined ? hit.zone : zones.findForQuery(question.name, question.type, question.class);
    if (!zone) {
      // Remembered, so the fast path can pass names outside our zones on (to the resolver)
      // without a zone search; the cache is emptied whenever the zone set changes.
      if (keyed && question.class !== RRClass.CH) this.remember(raw, nameEnd, dnssec, hash, NO_ANSWER, NO_ZONE);
      return next(req);
    }
    req.state.zone = hit !== undefined ? hit.originText : this.originText(zone);
    if (question.type === RRType.OPT || question.type === RRType.TSIG || question.type === RRType.TKEY) {
      return { message: response(q, Rcode.FORMERR, false), reason: 'formerr' };
    }
    if (question.type === RRType.MAILA || question.type === RRType.MAILB) {
      return { message: response(q, Rcode.NOTIMP, false), reason: 'notimp' };
    }
    // NOTIMP or TC for ANY before any lookup or cached answer (UDP and TCP share a cache key).
    if (question.type === RRType.ANY && this.opts.anyPolicy !== undefined) {
      const shortcut = anyShortcut(req, this.opts.anyPolicy);
      if (shortcut) return shortcut;
    }
    if (this.cacheMax <= 0) return { message: fromAnswer(q, lookup(zone, question.name, question.type, { ...this.opts.lookup, zones, do: dnssec })) };
    const serial = zone.serial;
    // A hit's key holds the question name's bytes, so they line up with the query's and it is
    // patched without checking again. A hit built before an in-place update of its zone is
    // rebuilt.
    if (hit !== undefined && hit.serial === serial) return { wire: patchAt(this.cache.answer(entry), raw, nameEnd) };
    const msg = fromAnswer(q, lookup(zone, question.name, question.type, { ...this.opts.lookup, zones, do: dnssec }));
    const wire = encodeMessage(msg);
    // Only answers whose question we can patch in place are kept (see patchAnswer).
    if (!keyed || nameEnd !== questionNameEnd(wire)) return { message: msg };
    this.remember(raw, nameEnd, dnssec, hash, wire, { zone, originText: this.originText(zone), serial, name: question.name });
    return { wire: patchAt(wire, raw, nameEnd) };
  }

  private remember(raw: Uint8Array, nameEnd: number, dnssec: boolean, hash: number, wire: Uint8Array, entry: CachedAnswer | typeof NO_ZONE): void {
    // Emptied when full: a flood of random names cannot grow it without bound.
    const t = this.cache;
    let found = t.find(raw, nameEnd, dnssec, hash);
    if (t.full(nameEnd, wire.length, found)) {
      t.clear();
      found = -1;
    }
    t.set(raw, nameEnd, dnssec, hash, wire, entry, found);
  }

  /**
   * The fast path's lookup: the precompiled answer for `q` (still valid for its zone's serial),
   * NO_ZONE when the name is known to be outside every zone, or undefined (the pipeline will
   * look it up and fill the cache). Only plain IN queries get here (parseFastQuery).
   */
  fastHit(q: FastQuery): CachedAnswer | typeof NO_ZONE | undefined {
    const zones = this.getZones();
    // No zones at all (a resolver-only view): every name is outside them, no lookup needed.
    if (zones.size === 0) return NO_ZONE;
    if (this.cacheMax <= 0 || zones !== this.cacheZones) return undefined;
    const entry = this.cache.find(q.raw, q.qnameEnd, q.do, q.hash);
    if (entry < 0) return undefined;
    const hit = this.cache.metaOf(entry);
    if (hit === NO_ZONE) return hit;
    if (hit.serial !== hit.zone.serial) return undefined;
    this.lastEntry = entry;
    return hit;
  }

  /**
   * The bytes of the hit `fastHit` just gave for this query (ID, RD, CD and the question's case
   * from the query), built in the query's scratch space `q.out`: no allocation per answer.
   */
  patch(q: FastQuery): Uint8Array {
    const entry = this.lastEntry;
    const n = this.cache.answerSize(entry);
    const out = q.out;
    this.cache.copyAnswer(entry, out);
    patchInPlace(out, q.raw, q.qnameEnd);
    return q.outView(n);
  }

  /** The zone's origin as text, remembered per zone: printing a Name walks its labels. */
  private originText(zone: Zone): string {
    let text = this.origins.get(zone);
    if (text === undefined) {
      text = zone.origin.toString();
      this.origins.set(zone, text);
    }
    return text;
  }

  private identityAnswer(q: Message, which: keyof Identity): Message {
    const id = this.opts.identity;
    const text = which === 'serverId' ? (id?.serverId ?? id?.hostname) : id?.[which];
    if (text === undefined) return response(q, Rcode.REFUSED, false);
    const question = q.question[0]!;
    const msg = response(q, Rcode.NOERROR, true);
    if (question.type === RRType.TXT || question.type === RRType.ANY) {
      const rr: ResourceRecord<TxtData> = {
        name: question.name, type: RRType.TXT, class: RRClass.CH, ttl: 0, data: { strings: charStrings(text) },
      };
      msg.answer.push(rr);
    }
    return msg;
  }
}

/** What is kept beside one precompiled answer's bytes: valid for one serial of its zone. */
export interface CachedAnswer {
  readonly zone: Zone;
  readonly originText: string;
  readonly serial: number;
  /** The question name it was built for (monitoring and rate limiting read it). */
  readonly name: Name;
}

/** A cache entry for a name outside every zone of the set. */
export const NO_ZONE = 0;

const NO_ANSWER = new Uint8Array(0);

/** The response skeleton: id, opcode, rd and cd copied; the question exactly as received. */
function response(q: Message, rcode: number, aa: boolean): Message {
  return makeMessage({ id: q.id, qr: true, opcode: q.opcode, aa, rd: q.rd, cd: q.cd, rcode, question: q.question });
}

/** Turns a lookup() result into a response message to `q`. */
export function fromAnswer(q: Message, a: Answer): Message {
  const msg = response(q, a.rcode, a.aa);
  msg.answer = a.answer.slice();
  msg.authority = a.authority.slice();
  msg.additional = a.additional.slice();
  return msg;
}


/**
 * The key of a question as text: the name's wire bytes ASCII-folded to lower case, then the
 * type and class bytes and the DO bit, as one latin1 string read straight from the query (the
 * bytes the answer table keys on; the table itself never builds the string). A compressed question
 * name falls back to a text key starting with '~', which no wire key can (a wire key starts
 * with a label length, at most 63).
 */
export function questionKey(raw: Uint8Array, question: Question, dnssec: boolean, end = questionNameEnd(raw)): string {
  const n = end - HEADER_SIZE;
  if (end < 0 || n > 255 || end + 4 > raw.length) return `~${question.name.key}|${question.type}|${question.class}|${dnssec ? 1 : 0}`;
  return wireQuestionKey(raw, end, dnssec);
}

/**
 * Offset just past the first question's name when it is written out in full (no compression
 * pointer) right after the header; -1 otherwise.
 */
export function questionNameEnd(m: Uint8Array): number {
  let off = HEADER_SIZE;
  while (off < m.length) {
    const len = m[off]!;
    if (len === 0) return off + 1;
    if (len > 63) return -1;
    off += len + 1;
  }
  return -1;
}

/**
 * A copy of the precompiled answer `wire` for the query `raw`: the query's ID, RD and CD bits
 * and its question name bytes (so the case the client sent comes back; names compressed against
 * the question follow it). Undefined when the two question names do not line up byte for byte,
 * which only a query with a compressed question name can cause.
 */
export function patchAnswer(wire: Uint8Array, raw: Uint8Array): Uint8Array | undefined {
  const end = questionNameEnd(raw);
  if (end < 0 || end !== questionNameEnd(wire)) return undefined;
  return patchAt(wire, raw, end);
}

/** patchAnswer once the question names are known to end at `end` in both. */
function patchAt(wire: Uint8Array, raw: Uint8Array, end: number): Uint8Array {
  const out = Buffer.allocUnsafe(wire.length);
  out.set(wire);
  patchInPlace(out, raw, end);
  return out;
}

/** ID, RD, CD and the question name's bytes of `raw`, written over a copy of an answer. */
function patchInPlace(out: Uint8Array, raw: Uint8Array, end: number): void {
  out[0] = raw[0]!;
  out[1] = raw[1]!;
  out[2] = (out[2]! & ~0x01) | (raw[2]! & 0x01);
  out[3] = (out[3]! & ~0x10) | (raw[3]! & 0x10);
  for (let i = HEADER_SIZE; i < end; i++) out[i] = raw[i]!;
}

/** UTF-8 text split into character-strings of at most 255 octets. */
function charStrings(text: string): Uint8Array[] {
  const bytes = Buffer.from(text, 'utf8');
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += 255) out.push(new Uint8Array(bytes.subarray(i, i + 255)));
  return out.length ? out : [new Uint8Array(0)];
}

