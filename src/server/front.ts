// The built-in front of the pipeline: checks the request before any step sees it, and
// finalizes every reply after (EDNS, NSID, size, truncation, encoding). RFC 1035 §4.1.1,
// RFC 6891 (EDNS), RFC 5001 (NSID), RFC 8914 (EDE), RFC 7766 §8 (TCP sizes).
import { EdeCode, EdnsOptionCode, encodeMessage, Opcode, Rcode, decodeMessage, type Edns, type EdnsOption, type Message } from '../wire/index.js';
import type { Next, Reply, Request, Step } from '../transport/handler.js';
import { SLOW, type FastNext, type FastQuery, type FastResult } from '../transport/fast.js';
import { makeResponse } from './response.js';

export interface FrontOptions {
  /** Our EDNS UDP payload size (default 1232, the DNS Flag Day 2020 value). */
  udpSize?: number;
  /** NSID bytes, sent to clients that include an empty NSID option. */
  nsid?: Uint8Array;
  /** Called when a later step throws; the client gets SERVFAIL. */
  onError?: (err: unknown, req: Request) => void;
  /**
   * Response-size ratio cap for UDP clients without a valid DNS cookie: a reply larger than
   * this many times the query is replaced by an empty one with TC set (the client retries over
   * TCP, which a spoofed source cannot). Undefined: no cap.
   */
  maxAmplification?: number;
}

/** Without EDNS a UDP reply is at most 512 bytes (RFC 1035 §2.3.4). */
export const CLASSIC_UDP_SIZE = 512;
const TCP_MAX = 65535;

export class FrontStep implements Step {
  readonly name = 'front';
  readonly phase = 'finalize' as const;
  private readonly udpSize: number;
  private readonly nsidOption: EdnsOption | undefined;
  private readonly onError: ((err: unknown, req: Request) => void) | undefined;
  private readonly maxAmplification: number | undefined;
  /** Replies truncated by the amplification cap. */
  amplificationCapped = 0;
  /** The two OPT records of precompiled replies (DO clear, DO set). */
  private readonly optPlain: Uint8Array;
  private readonly optDo: Uint8Array;

  constructor(opts: FrontOptions = {}) {
    this.udpSize = opts.udpSize ?? 1232;
    this.optPlain = optRecord(this.udpSize, false);
    this.optDo = optRecord(this.udpSize, true);
    this.nsidOption = opts.nsid ? { code: EdnsOptionCode.NSID, data: opts.nsid } : undefined;
    this.onError = opts.onError;
    this.maxAmplification = opts.maxAmplification;
  }

  async handle(req: Request, next: Next): Promise<Reply> {
    const q = req.message;
    if (q.qr) return DROP_RESPONSE;
    let reply: Reply;
    if (req.state.malformed !== undefined) reply = { message: makeResponse(q, Rcode.FORMERR), reason: 'formerr' };
    else if (q.opcode !== Opcode.QUERY) reply = { message: makeResponse(q, Rcode.NOTIMP), reason: 'notimp' };
    else if (q.question.length !== 1) reply = { message: makeResponse(q, Rcode.FORMERR), reason: 'formerr' };
    else if (q.edns && q.edns.version !== 0) reply = { message: makeResponse(q, Rcode.BADVERS), reason: 'badvers' };
    else {
      try {
        reply = await next(req);
      } catch (err) {
        this.onError?.(err, req);
        reply = { message: makeResponse(q, Rcode.SERVFAIL, { infoCode: EdeCode.OTHER, text: 'internal error' }), reason: 'error' };
      }
    }
    return this.finalize(req, reply);
  }

  /**
   * The fast path (plain UDP queries): the header checks of `handle` hold by construction
   * (parseFastQuery), so what is left is the OPT of the reply and its size. A reply that does
   * not fit, or that the amplification cap would truncate, goes to the pipeline, which
   * truncates it.
   */
  fast(q: FastQuery, next: FastNext): FastResult {
    const wire = next(q);
    if (!wire) return wire;
    let out = wire;
    let limit = CLASSIC_UDP_SIZE;
    if (q.edns) {
      limit = Math.max(CLASSIC_UDP_SIZE, Math.min(q.udpSize, this.udpSize));
      const cookie = q.cookieResponse;
      const opt = cookie === undefined ? (q.do ? this.optDo : this.optPlain) : this.optWithCookie(q.do, cookie);
      const scratch = q.out;
      // Built in the query's scratch space (the authoritative step's answers are): the OPT is
      // appended in place.
      if (wire.buffer === scratch.buffer && wire.byteOffset === scratch.byteOffset && wire.length + opt.length <= scratch.length) {
        const n = wire.length;
        // A loop: for these few bytes cheaper than TypedArray.prototype.set.
        for (let i = 0; i < opt.length; i++) scratch[n + i] = opt[i]!;
        const ar = ((scratch[10]! << 8) | scratch[11]!) + 1;
        scratch[10] = ar >> 8;
        scratch[11] = ar & 0xff;
        out = q.outView(n + opt.length);
      } else out = appendOpt(wire, opt);
    }
    if (out.length > limit) return SLOW;
    const cap = this.maxAmplification;
    if (cap !== undefined && !q.validCookie && out.length > cap * q.raw.length && (out[2]! & 0x02) === 0) return SLOW;
    return out;
  }

  /** The OPT record with one COOKIE option, as responseEdns would encode it. */
  private optWithCookie(dnssecOk: boolean, cookie: Uint8Array): Uint8Array {
    const base = dnssecOk ? this.optDo : this.optPlain;
    const out = Buffer.allocUnsafe(base.length + 4 + cookie.length);
    out.set(base);
    const rdlen = 4 + cookie.length;
    out[9] = rdlen >> 8;
    out[10] = rdlen & 0xff;
    out[11] = 0;
    out[12] = EdnsOptionCode.COOKIE;
    out[13] = cookie.length >> 8;
    out[14] = cookie.length & 0xff;
    out.set(cookie, 15);
    return out;
  }

  /** The largest reply this request may get. */
  maxSize(req: Request): number {
    if (req.transport !== 'udp') return TCP_MAX;
    const e = req.message.edns;
    if (!e) return CLASSIC_UDP_SIZE;
    // RFC 6891 §6.2.5: values below 512 are treated as 512.
    return Math.max(CLASSIC_UDP_SIZE, Math.min(e.udpSize, this.udpSize));
  }

  finalize(req: Request, reply: Reply): Reply {
    if (reply.drop) return reply;
    const out = this.encode(req, reply);
    const cap = this.maxAmplification;
    if (cap === undefined || req.transport !== 'udp' || req.state.validCookie === true) return out;
    const wire = out.wire;
    if (!wire || wire.length <= cap * req.raw.length || (wire[2]! & 0x02) !== 0) return out;
    // Too large for what the client spent: an empty TC reply (RFC 7873 §5.3 and RRL's slip).
    this.amplificationCapped++;
    const msg = out.message ?? decodeMessage(wire);
    const tc: Message = { ...msg, tc: true, aa: false, answer: [], authority: [], additional: [] };
    return { message: tc, wire: encodeMessage(tc, { maxSize: this.maxSize(req) }), reason: 'amplification' };
  }

  private encode(req: Request, reply: Reply): Reply {
    const limit = this.maxSize(req);
    let msg = reply.message;
    if (!msg) {
      const wire = reply.wire;
      if (!wire) return DROP_EMPTY;
      // Precompiled bytes (a step's cached answer, ID and question already patched, no OPT):
      // only the OPT is appended, when the query had one and it all fits this client.
      const qEdns = req.message.edns;
      if (!qEdns) {
        if (wire.length <= limit) return reply;
      } else if (req.state.responseOptions === undefined) {
        const opt = this.optBytes(qEdns);
        if (opt && wire.length + opt.length <= limit) return { wire: appendOpt(wire, opt), reason: reply.reason };
      }
      // Too big (or an OPT with options): decode, and encode again with truncation.
      msg = decodeMessage(wire);
    }
    const out: Message = { ...msg, edns: this.responseEdns(req.message.edns, msg.edns, req.state.responseOptions as EdnsOption[] | undefined) };
    return { message: out, wire: encodeMessage(out, { maxSize: limit }), reason: reply.reason };
  }

  /**
   * The OPT record of `responseEdns` as bytes, for the common case of no options (the query
   * asked for no NSID, or we have none); undefined otherwise.
   */
  private optBytes(query: Edns): Uint8Array | undefined {
    if (this.nsidOption && query.options.length && query.options.some(isNsid)) return undefined;
    return query.do ? this.optDo : this.optPlain;
  }

  /** OPT for the response: only when the query had one (RFC 6891 §7); version 0; DO copied. */
  private responseEdns(query: Edns | undefined, fromSteps: Edns | undefined, extra?: readonly EdnsOption[]): Edns | undefined {
    if (!query) return undefined;
    let options: EdnsOption[] = EMPTY;
    // NSID and COOKIE are ours to add: a step's message may carry the query's options.
    if (fromSteps && fromSteps.options.length) options = fromSteps.options.filter((o) => o.code !== EdnsOptionCode.NSID && o.code !== EdnsOptionCode.COOKIE);
    if (this.nsidOption && query.options.length && query.options.some(isNsid)) options = [...options, this.nsidOption];
    // Options steps left for the response (the COOKIE of the cookie step).
    if (extra && extra.length) options = [...options, ...extra];

    return { udpSize: this.udpSize, version: 0, do: query.do, z: 0, options };
  }
}

/** An OPT RR with no options: root owner, our payload size, version 0, DO as given. */
function optRecord(udpSize: number, dnssecOk: boolean): Uint8Array {
  return Uint8Array.of(0, 0, 41, udpSize >> 8, udpSize & 0xff, 0, 0, dnssecOk ? 0x80 : 0, 0, 0, 0);
}

/** `wire` with `opt` appended and ARCOUNT one higher. */
function appendOpt(wire: Uint8Array, opt: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(wire.length + opt.length);
  out.set(wire);
  out.set(opt, wire.length);
  const ar = ((wire[10]! << 8) | wire[11]!) + 1;
  out[10] = ar >> 8;
  out[11] = ar & 0xff;
  return out;
}

const EMPTY: EdnsOption[] = [];
const DROP_RESPONSE: Reply = { drop: true, reason: 'response' };
const DROP_EMPTY: Reply = { drop: true, reason: 'empty-reply' };
function isNsid(o: EdnsOption): boolean {
  return o.code === EdnsOptionCode.NSID;
}
