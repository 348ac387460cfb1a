import type { Endpoint, Next, Phase, Reply, Request, Step } from '../transport/handler.js';
import { EdeCode, encodeEde, Opcode, Rcode, RRType, type Edns, type Message } from '../wire/index.js';
import type { Resolver } from './resolver.js';
import { isLoopback } from './upstream.js';

export interface ResolverStepOptions {
  /** Who may recurse. Default: loopback clients only. */
  allow?: (client: Endpoint) => boolean;
  /** UDP payload size we announce to clients (default 1232). */
  ednsUdpSize?: number;
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
  }

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
    const r = await this.resolver.resolve(question.name, question.type, question.class, { rd: q.rd, cd: q.cd, do: q.edns?.do ?? false });
    // The monitor's cache hit ratio (MonitorStep reads it as `flags.cached`).
    if (r.fromCache === true) req.state.cached = true;
    const msg = this.reply(q, r.rcode, r.ede);
    // RFC 6840 §5.7: AD only for validated data, and only to clients that show they understand it.
    msg.ad = r.ad === true && r.rcode !== Rcode.SERVFAIL && ((q.edns?.do ?? false) || q.ad);
    msg.answer = r.answer;
    msg.authority = r.authority;
    msg.additional = r.additional;
    return { message: msg, reason: r.rcode === Rcode.SERVFAIL ? 'servfail' : undefined };
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
