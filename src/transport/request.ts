import { decodeMessage, decodeQueryHead, makeMessage, type Message } from '../wire/index.js';
import type { Endpoint, Reply, Request, TransportKind } from './handler.js';

/**
 * Turns received bytes into a Request, or undefined to drop them silently.
 *
 * As BIND does: a message that decodes fully goes on (responses, QR=1, are dropped: answering
 * them invites loops and reflection); one that does not decode but whose header and first
 * question can be read, with QR=0, becomes a request marked `state.malformed` (the front step
 * answers FORMERR); anything else is dropped.
 */
export function buildRequest(
  raw: Uint8Array,
  client: Endpoint,
  local: Endpoint,
  transport: TransportKind,
  listener: string,
): Request | undefined {
  const receivedAt = process.hrtime.bigint();
  let message: Message;
  let malformed: string | undefined;
  try {
    message = decodeMessage(raw);
    if (message.qr) return undefined;
  } catch (err) {
    let head;
    try {
      head = decodeQueryHead(raw);
    } catch {
      return undefined;
    }
    if (head.flags & 0x8000) return undefined;
    malformed = (err as Error).message;
    message = makeMessage({
      id: head.id,
      opcode: (head.flags >>> 11) & 0xf,
      rd: (head.flags & 0x0100) !== 0,
      cd: (head.flags & 0x0010) !== 0,
      question: [{ name: head.qname, type: head.qtype, class: head.qclass }],
    });
  }
  return { message, raw, client, local, transport, listener, receivedAt, state: malformed === undefined ? {} : { malformed } };
}

/** The bytes to send for a reply; finalize normally made them already. */
export function replyBytes(reply: Reply): Uint8Array | undefined {
  if (reply.drop) return undefined;
  return reply.wire;
}

/** Counters a listener keeps; read by metrics and tests. */
export interface ListenerStats {
  received: number;
  answered: number;
  dropped: number;
  errors: number;
}

export function newStats(): ListenerStats {
  return { received: 0, answered: 0, dropped: 0, errors: 0 };
}
