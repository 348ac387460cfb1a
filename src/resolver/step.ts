import type { Endpoint, Next, Phase, Reply, Request, Step } from '../transport/handler.js';
import { EdeCode, EdnsOptionCode, encodeEde, encodeMessage, Opcode, Rcode, RRType, type Edns, type Message } from '../wire/index.js';
import { questionNameEnd } from '../authoritative/step.js';
import { questionHash } from '../transport/fast.js';
import type { Resolver } from './resolver.js';
import { isLoopback } from './upstream.js';
import type { CacheTrace } from './cache.js';
import type { Name } from '../wire/index.js';

function isEcs(o: { code: number }): boolean {
  return o.code === EdnsOptionCode.CLIENT_SUBNET;
}

export interface ResolverStepOptions {
  /** Who may recurse. Default: loopback clients only. */
  allow?: (client: Endpoint) => boolean;
  /** UDP payload size we announce to clients (default 1232). */
  ednsUdpSize?: number;
  /**
   * Use the resolver's precompiled replies (default true). False: every question takes the
   * full path and none is kept (tests compare the two).
   */
  precompiled?: boolean;
}

export const loopbackOnly = (client: Endpoint): boolean => isLoopback(client.address);

/**
 * The resolver in the pipeline ('answer' phase, after the authoritative step, which answers
 * our own zones and calls `next` for the rest). Allowed clients get the resolver's answer
 * (RA set, AA clear); everyone else gets REFUSED with EDE 18 "Prohibited", so the server is
 * never an open resolver.
 */
export class ResolverStep implements Step {
  readonly name = 'resolver';
  readonly phase: Phase = 'answer';
  private readonly allow: (client: Endpoint) => boolean;

  constructor(private readonly resolver: Resolver, opts: ResolverStepOptions = {}) {
    this.allow = opts.allow ?? loopbackOnly;
    this.udpSize = opts.ednsUdpSize ?? 1232;
    this.precompiled = opts.precompiled !== false;
  }

  private readonly precompiled: boolean;

  private readonly udpSize: number;

  async handle(req: Request, _next: Next): Promise<Reply> {
    const q = req.message;
    const question = q.question[0];
    if (q.opcode !== Opcode.QUERY) return { message: this.reply(q, Rcode.NOTIMP), reason: 'opcode' };
    if (!question || q.question.length !== 1) return { message: this.reply(q, Rcode.FORMERR), reason: 'formerr' };
    const allowed = req.state.recursionAllowed ?? this.allow(req.client);
    if (!allowed) {
      const refused = this.reply(q, Rcode.REFUSED, { infoCode: EdeCode.PROHIBITED, text: 'recursion not allowed for this client' });
      // No RA for a client that may not recurse (as BIND): scanners and audits read RA as
      // "open resolver".
      refused.ra = false;
      return { message: refused, reason: 'recursion-refused' };
    }
    if (question.type === RRType.AXFR || question.type === RRType.IXFR || question.type === RRType.MAILA || question.type === RRType.MAILB) {
      return { message: this.reply(q, Rcode.REFUSED, { infoCode: EdeCode.NOT_SUPPORTED, text: 'zone transfers are not recursive' }), reason: 'qtype' };
    }
    const dnssecOk = q.edns?.do ?? false;
    // Precompiled replies (answer-cache.ts): only for questions written out in full, and not
    // with ECS, whose answers may be meant for one network.
    const answers = this.resolver.answers;
    let nameEnd = -1;
    let hash = 0;
    let trace: CacheTrace | undefined;
    if (this.precompiled && answers.enabled && !(q.edns?.options.length && q.edns.options.some(isEcs))) {
      nameEnd = questionNameEnd(req.raw);
      // Kept replies are for uncompressed question names only.
      if (nameEnd >= 0 && nameEnd - 12 <= 255 && nameEnd + 4 <= req.raw.length) {
        hash = questionHash(req.raw, nameEnd, dnssecOk);
        const wire = this.fastAnswer(req.raw, nameEnd, dnssecOk, hash, req.state.view);
        if (wire) {
          req.state.cached = true;
          return { wire };
        }
        trace = this.resolver.cache.trace();
      }
    }
    const r = await this.resolver.resolve(question.name, question.type, question.class, { rd: q.rd, cd: q.cd, do: dnssecOk, trace });
    // The monitor's cache hit ratio (MonitorStep reads it as `flags.cached`).
    if (r.fromCache === true) req.state.cached = true;
    const msg = this.reply(q, r.rcode, r.ede);
    // RFC 6840 §5.7: AD only for validated data, and only to clients that show they understand it.
    msg.ad = r.ad === true && r.rcode !== Rcode.SERVFAIL && (dnssecOk || q.ad);
    msg.answer = r.answer;
    msg.authority = r.authority;
    msg.additional = r.additional;
    if (trace && r.fromCache === true && r.ede === undefined && (r.rcode === Rcode.NOERROR || r.rcode === Rcode.NXDOMAIN) && r.security !== 'bogus') {
      this.precompile(msg, r.ad === true, dnssecOk, req.state.view, req.raw, hash, nameEnd, trace);
    }
    return { message: msg, reason: r.rcode === Rcode.SERVFAIL ? 'servfail' : undefined };
  }

  /** The question name of the last reply fastAnswer gave (as first asked; for monitoring). */
  get lastAnswerName(): Name | undefined {
    return this.resolver.answers.lastName;
  }

  /**
   * The reply to a query already answered from the cache, for the UDP fast path: `raw` is the
   * query datagram, its uncompressed question name ends at `qnameEnd`, `dnssecOk` is its DO
   * bit, `hash` its questionHash() (transport/fast.ts) and `view` the view it was routed to. Gives the reply without OPT (ID, RD and CD
   * from the query, the question's bytes as sent, TTLs current), or undefined: take the normal
   * path. Never throws, never waits. With `out` (scratch space of the caller) the reply is
   * built there and a view of it returned. The caller has already decided that this client may recurse
   * in this view and that no zone of ours or policy answers the question.
   */
  fastAnswer(raw: Uint8Array, qnameEnd: number, dnssecOk: boolean, hash: number, view: string | undefined, out?: Uint8Array): Uint8Array | undefined {
    const wire = this.resolver.answers.get(raw, qnameEnd, dnssecOk, hash, view, out);
    // Counted as a question the resolver answered, as the full path counts it.
    if (wire) this.resolver.stats.queries++;
    return wire;
  }

  /** Keeps the encoded reply (without OPT) for later questions with the same key. */
  private precompile(msg: Message, secure: boolean, dnssecOk: boolean, view: string | undefined, raw: Uint8Array, hash: number, nameEnd: number, trace: CacheTrace): void {
    try {
      const wire = encodeMessage({ ...msg, edns: undefined });
      if (questionNameEnd(wire) !== nameEnd) return;
      this.resolver.answers.store(view, raw, hash, msg.cd, wire, nameEnd, [...msg.answer, ...msg.authority, ...msg.additional], secure, dnssecOk, trace, msg.question[0]?.name);
    } catch {
      // Not encodable here (too large for one message): the full path answers it every time.
    }
  }

  /** The response header: id, opcode, RD, CD and question copied as received; RA set, AA clear. */
  private reply(q: Message, rcode: number, ede?: { infoCode: number; text: string }): Message {
    let edns: Edns | undefined;
    if (q.edns) edns = { udpSize: this.udpSize, version: 0, do: q.edns.do, z: 0, options: ede ? [encodeEde(ede)] : [] };
    return {
      id: q.id, qr: true, opcode: q.opcode, aa: false, tc: false, rd: q.rd, ra: true, z: false, ad: false, cd: q.cd,
      rcode: edns ? rcode : rcode & 0xf, question: q.question, answer: [], authority: [], additional: [], edns,
    };
  }
}
