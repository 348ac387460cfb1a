import { encodeEde, makeMessage, type Ede, type Message } from '../wire/index.js';

/**
 * A response skeleton for a query: ID, opcode, RD, CD and the question copied exactly as
 * received (case preserved). EDE options go in `edns.options`; finalize builds the real OPT.
 */
export function makeResponse(query: Message, rcode: number, ede?: Ede): Message {
  return makeMessage({
    id: query.id,
    qr: true,
    opcode: query.opcode,
    rd: query.rd,
    cd: query.cd,
    rcode,
    question: query.question,
    edns: ede ? { udpSize: 0, version: 0, do: false, z: 0, options: [encodeEde(ede)] } : undefined,
  });
}
