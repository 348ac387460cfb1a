// The built-in front of the pipeline: checks the request before any step sees it, and
// finalizes every reply after (EDNS, NSID, size, truncation, encoding). RFC 1035 §4.1.1,
// RFC 6891 (EDNS), RFC 5001 (NSID), RFC 8914 (EDE), RFC 7766 §8 (TCP sizes).
import { EdeCode, EdnsOptionCode, encodeMessage, Opcode, Rcode, decodeMessage, type Edns, type EdnsOption, type Message } from '../wire/index.js';
import type { Next, Reply, Request, Step } from '../transport/handler.js';
import { makeResponse } from './response.js';

export interface FrontOptions {
  /** Our EDNS UDP payload size (default 1232, the DNS Flag Day 2020 value). */
  udpSize?: number;
  /** NSID bytes, sent to clients that include an empty NSID option. */
  nsid?: Uint8Array;
  /** Called when a later step throws; the client gets SERVFAIL. */
  onError?: (err: unknown, req: Request) => void;
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

  constructor(opts: FrontOptions = {}) {
    this.udpSize = opts.udpSize ?? 1232;
    this.nsidOption = opts.nsid ? { code: EdnsOptionCode.NSID, data: opts.nsid } : undefined;
    this.onError = opts.onError;
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
    const limit = this.maxSize(req);
    let msg = reply.message;
    if (!msg) {
      if (!reply.wire) return DROP_EMPTY;
      // Precompiled bytes are sent as they are unless they are too big for this client.
      if (reply.wire.length <= limit) return reply;
      msg = decodeMessage(reply.wire);
      return { message: msg, wire: encodeMessage(msg, { maxSize: limit }), reason: reply.reason };
    }
    const out: Message = { ...msg, edns: this.responseEdns(req.message.edns, msg.edns) };
    return { message: out, wire: encodeMessage(out, { maxSize: limit }), reason: reply.reason };
  }

  /** OPT for the response: only when the query had one (RFC 6891 §7); version 0; DO copied. */
  private responseEdns(query: Edns | undefined, fromSteps: Edns | undefined): Edns | undefined {
    if (!query) return undefined;
    let options: EdnsOption[] = EMPTY;
    if (fromSteps && fromSteps.options.length) options = fromSteps.options.filter((o) => o.code !== EdnsOptionCode.NSID);
    if (this.nsidOption && query.options.length && query.options.some(isNsid)) options = [...options, this.nsidOption];
    return { udpSize: this.udpSize, version: 0, do: query.do, z: 0, options };
  }
}

const EMPTY: EdnsOption[] = [];
const DROP_RESPONSE: Reply = { drop: true, reason: 'response' };
const DROP_EMPTY: Reply = { drop: true, reason: 'empty-reply' };
function isNsid(o: EdnsOption): boolean {
  return o.code === EdnsOptionCode.NSID;
}
