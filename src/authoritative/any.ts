import type { Reply, Request } from '../transport/handler.js';
import { makeMessage, Rcode, RRType, type Message } from '../wire/index.js';
import type { AnyPolicy } from './lookup.js';

/**
 * How qtype ANY is answered (RFC 8482), the `anyPolicy` of the authoritative step:
 * - `minimal` (default): one RRset of the name (RFC 8482 §4.1; `minimalAny` in lookup.ts picks
 *   it); a name without data gets NODATA;
 * - `refuse`: NOTIMP, for operators who answer no ANY at all;
 * - `tcp`: over UDP an empty answer with TC set, so a real client retries over TCP (a spoofed
 *   source cannot); over TCP, TLS and HTTPS every RRset — as PowerDNS does;
 * - `full`: every RRset at the name over any transport (RFC 1035 behaviour).
 */
export type AnyMode = 'minimal' | 'refuse' | 'tcp' | 'full';
export const ANY_MODES: readonly AnyMode[] = ['minimal', 'refuse', 'tcp', 'full'];

/**
 * The reply an ANY question gets before any lookup under `mode` (NOTIMP, or TC over UDP), or
 * undefined when the lookup answers it. Only called for qtype ANY inside our zones.
 */
export function anyShortcut(req: Request, mode: AnyMode): Reply | undefined {
  const q = req.message;
  if (q.question[0]?.type !== RRType.ANY) return undefined;
  if (mode === 'refuse') return { message: skeleton(q, Rcode.NOTIMP, false, false), reason: 'any-refused' };
  if (mode === 'tcp' && req.transport === 'udp') return { message: skeleton(q, Rcode.NOERROR, true, true), reason: 'any-tcp' };
  return undefined;
}

/** The RRset selection lookup() applies for `mode` (the shortcuts aside). */
export function lookupAnyPolicy(mode: AnyMode): AnyPolicy {
  return mode === 'minimal' ? 'minimal' : 'full';
}

function skeleton(q: Message, rcode: number, aa: boolean, tc: boolean): Message {
  return makeMessage({ id: q.id, qr: true, opcode: q.opcode, aa, tc, rd: q.rd, cd: q.cd, rcode, question: q.question });
}
