import type { Next, Reply, Request, Step } from '../transport/handler.js';
import { makeMessage, Opcode, Rcode, RRClass, RRType, type Message, type ResourceRecord, type TxtData } from '../wire/index.js';
import { lookup, type Answer, type LookupOptions } from './lookup.js';
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
}

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

  constructor(
    private readonly getZones: () => ZoneSet,
    private readonly opts: AuthoritativeOptions = {},
  ) {
    if (opts.anyPolicy !== undefined) this.opts = { ...opts, lookup: { ...opts.lookup, anyPolicy: lookupAnyPolicy(opts.anyPolicy) } };
  }

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
    const zone = zones.findForQuery(question.name, question.type, question.class);
    if (!zone) return next(req);
    req.state.zone = zone.origin.toString();
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
    const answer = lookup(zone, question.name, question.type, {
      ...this.opts.lookup,
      zones,
      do: q.edns?.do === true,
    });
    return { message: fromAnswer(q, answer) };
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

/** UTF-8 text split into character-strings of at most 255 octets. */
function charStrings(text: string): Uint8Array[] {
  const bytes = Buffer.from(text, 'utf8');
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += 255) out.push(new Uint8Array(bytes.subarray(i, i + 255)));
  return out.length ? out : [new Uint8Array(0)];
}

