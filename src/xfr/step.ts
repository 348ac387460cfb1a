import { encodeMessage, makeMessage, Opcode, Rcode, RRType, type Message, type ResourceRecord, type SoaData } from '../wire/index.js';
import type { Next, Reply, Request, Step } from '../transport/handler.js';
import type { FastNext, FastQuery, FastResult } from '../transport/fast.js';
import { appendErrorTsig, badTimeOther, signMessage, verifyMessage, type TsigKey, type TsigRecord } from './tsig.js';
import { axfrRecords, ixfrRecords, packTransfer } from './transfer.js';
import { serialGreater } from './record-set.js';
import type { XfrService } from './service.js';

/**
 * The pipeline step for zone transfers, UPDATE, NOTIFY and TSIG. It is a *finalize* step placed
 * after the front step, so it wraps the whole chain: it sees each request first and each reply
 * last. That position is needed because TSIG covers the exact bytes sent: a signed answer must
 * not be re-encoded or have an OPT appended after signing, and UPDATE/NOTIFY (which the front
 * step answers NOTIMP) are handled here before it.
 *
 * - Unsigned QUERY other than AXFR/IXFR: passed on untouched (one header check on the hot path).
 * - Signed requests: verified (RFC 8945 §5.2); failures answered NOTAUTH with BADKEY/BADSIG
 *   (unsigned, empty MAC) or BADTIME (signed, our time in Other Data); good ones get a signed answer.
 * - AXFR (TCP only) and IXFR: `allow-transfer`; IXFR from the journal, AXFR when the history
 *   does not reach back; IXFR over UDP gets the current SOA alone (RFC 1995 §2).
 * - UPDATE (RFC 2136): `allow-update`; answered after the change is on disk.
 * - NOTIFY (RFC 1996): accepted for secondary zones from their primaries.
 */
export class XfrStep implements Step {
  readonly name = 'xfr';
  readonly phase = 'finalize' as const;

  constructor(private readonly svc: XfrService) {}

  /** Plain queries only reach the fast path (no TSIG, no transfer, NOTIFY or UPDATE): not ours. */
  fast(q: FastQuery, next: FastNext): FastResult {
    return next(q);
  }

  async handle(req: Request, next: Next): Promise<Reply> {
    const q = req.message;
    const op = q.opcode;
    const qtype = q.question[0]?.type;
    const signed = q.additional.length > 0 && q.additional[q.additional.length - 1]!.type === RRType.TSIG;
    const transfer = op === Opcode.QUERY && (qtype === RRType.AXFR || qtype === RRType.IXFR);
    if (!signed && !transfer && op !== Opcode.NOTIFY && op !== Opcode.UPDATE) return next(req);
    if (q.qr || req.state.malformed !== undefined) return next(req);

    let key: TsigKey | undefined;
    let tsig: TsigRecord | undefined;
    if (signed) {
      let verdict;
      try {
        verdict = verifyMessage(req.raw, this.svc.findKey);
      } catch {
        return this.plain(q, Rcode.FORMERR, 'tsig-formerr');
      }
      if (verdict && !verdict.ok) {
        this.svc.logger.warn({ client: req.client.address, key: verdict.tsig.keyName.toString(), error: verdict.error }, `TSIG refused: ${verdict.reason}`);
        const resp = encodeMessage(response(q, Rcode.NOTAUTH));
        if (verdict.error === Rcode.BADTIME && verdict.key) {
          // §5.2.3: signed, with the request's time and our clock in Other Data.
          const s = signMessage(resp, verdict.key, { requestMac: verdict.tsig.mac, error: Rcode.BADTIME, other: badTimeOther(), now: verdict.tsig.timeSigned, fudge: verdict.tsig.fudge });
          return { wire: s.wire, reason: 'tsig-badtime' };
        }
        return { wire: appendErrorTsig(resp, verdict.tsig, verdict.error), reason: verdict.error === Rcode.BADKEY ? 'tsig-badkey' : 'tsig-badsig' };
      }
      if (verdict?.ok) {
        key = verdict.key;
        tsig = verdict.tsig;
      }
    }
    const ctx: Ctx = { req, key, requestMac: tsig?.mac, keyName: key ? key.name.toString().replace(/\.$/, '') : undefined };
    // The verified key for the steps inside (ACL entries `key NAME`, views[].keys).
    if (ctx.keyName !== undefined) req.state.tsigKey = ctx.keyName;
    if (transfer) return this.transfer(ctx);
    if (op === Opcode.UPDATE) return this.update(ctx);
    if (op === Opcode.NOTIFY) return this.notify(ctx);
    // A signed ordinary query: answered by the chain, then signed.
    const reply = await next(req);
    if (reply.drop || !reply.wire || !key) return reply;
    return { ...reply, message: undefined, wire: signMessage(reply.wire, key, { requestMac: tsig!.mac }).wire };
  }

  private plain(q: Message, rcode: number, reason: string): Reply {
    return { wire: encodeMessage(response(q, rcode)), reason };
  }

  /** An answer, signed when the request was. */
  private answer(ctx: Ctx, msg: Message, reason: string): Reply {
    const wire = encodeMessage(msg);
    if (!ctx.key) return { wire, reason };
    return { wire: signMessage(wire, ctx.key, { requestMac: ctx.requestMac }).wire, reason };
  }

  private transfer(ctx: Ctx): Reply {
    const { req } = ctx;
    const q = req.message;
    const question = q.question[0]!;
    const mz = this.svc.get(question.name);
    const zone = mz?.served;
    if (!mz || !zone || question.class !== zone.class) {
      return this.answer(ctx, response(q, this.svc.serves(question.name) ? Rcode.REFUSED : Rcode.NOTAUTH), 'xfr-notauth');
    }
    if (!mz.transferAcl.allows({ address: req.client.address, key: ctx.keyName })) {
      this.svc.logger.info({ zone: zone.origin.toString(), client: req.client.address, key: ctx.keyName }, 'transfer refused (allow-transfer)');
      return this.answer(ctx, response(q, Rcode.REFUSED), 'xfr-refused');
    }
    let records: Iterable<ResourceRecord>;
    if (question.type === RRType.IXFR) {
      const theirs = q.authority.find((r) => r.type === RRType.SOA && r.name.equals(zone.origin));
      if (!theirs || theirs.data instanceof Uint8Array) return this.answer(ctx, response(q, Rcode.FORMERR), 'xfr-formerr');
      const serial = (theirs.data as SoaData).serial;
      // Up to date, or over UDP: the current SOA alone (RFC 1995 §2, §4).
      if (!serialGreater(zone.serial, serial) || req.transport === 'udp') {
        return this.answer(ctx, { ...response(q, Rcode.NOERROR), aa: true, answer: [zone.soa] }, 'ixfr-soa');
      }
      const chain = mz.chainFrom(serial);
      records = chain ? ixfrRecords(zone.soa, chain) : axfrRecords(zone.soa, zone.records());
      this.svc.logger.info({ zone: zone.origin.toString(), client: req.client.address, from: serial, to: zone.serial, incremental: !!chain }, 'IXFR out');
    } else {
      // RFC 5936 §4.2: AXFR is not defined over UDP.
      if (req.transport === 'udp') return this.answer(ctx, response(q, Rcode.FORMERR), 'axfr-udp');
      records = axfrRecords(zone.soa, zone.records());
      this.svc.logger.info({ zone: zone.origin.toString(), client: req.client.address, serial: zone.serial }, 'AXFR out');
    }
    const packed = packTransfer(q, records, { reserve: ctx.key ? 512 : 0, ednsUdpSize: q.edns ? EDNS_UDP_SIZE : undefined });
    return { stream: ctx.key ? signStream(packed, ctx.key, ctx.requestMac!) : packed, reason: 'xfr' };
  }

  private async update(ctx: Ctx): Promise<Reply> {
    const { req } = ctx;
    const q = req.message;
    if (q.question.length !== 1 || q.question[0]!.type !== RRType.SOA) return this.answer(ctx, response(q, Rcode.FORMERR), 'update-formerr');
    const origin = q.question[0]!.name;
    const mz = this.svc.get(origin);
    if (!mz || !mz.served) return this.answer(ctx, response(q, this.svc.serves(origin) ? Rcode.REFUSED : Rcode.NOTAUTH), 'update-notauth');
    if (mz.secondary || !mz.updateAcl.allows({ address: req.client.address, key: ctx.keyName })) {
      this.svc.logger.info({ zone: origin.toString(), client: req.client.address, key: ctx.keyName }, 'update refused (allow-update)');
      return this.answer(ctx, response(q, Rcode.REFUSED), 'update-refused');
    }
    const res = await mz.update(q);
    this.svc.logger.info({ zone: origin.toString(), client: req.client.address, key: ctx.keyName, rcode: res.rcode, reason: res.reason, serial: res.serial?.to }, 'update');
    return this.answer(ctx, response(q, res.rcode), 'update');
  }

  private notify(ctx: Ctx): Reply {
    const { req } = ctx;
    const q = req.message;
    if (q.question.length !== 1) return this.answer(ctx, response(q, Rcode.FORMERR), 'notify-formerr');
    const origin = q.question[0]!.name;
    const mz = this.svc.get(origin);
    if (!mz || !mz.secondary) return this.answer(ctx, response(q, this.svc.serves(origin) ? Rcode.REFUSED : Rcode.NOTAUTH), 'notify-notauth');
    if (!mz.notified(req.client.address)) {
      this.svc.logger.info({ zone: origin.toString(), client: req.client.address }, 'NOTIFY refused: not from a primary');
      return this.answer(ctx, response(q, Rcode.REFUSED), 'notify-refused');
    }
    this.svc.logger.info({ zone: origin.toString(), client: req.client.address }, 'NOTIFY accepted');
    return this.answer(ctx, { ...response(q, Rcode.NOERROR), aa: true }, 'notify');
  }
}

interface Ctx {
  req: Request;
  key?: TsigKey;
  requestMac?: Uint8Array;
  /** The key name as configured (no trailing dot), for ACLs. */
  keyName?: string;
}

/** The answer skeleton: ID, opcode, question copied. */
function response(q: Message, rcode: number): Message {
  // RFC 6891 §7: a query with EDNS gets an OPT back (our payload size, version 0).
  const edns = q.edns ? { udpSize: EDNS_UDP_SIZE, version: 0, do: q.edns.do, z: 0, options: [] } : undefined;
  return makeMessage({ id: q.id, qr: true, opcode: q.opcode, rd: q.rd, rcode, question: q.question, edns });
}

/** The payload size we announce in transfer, UPDATE and NOTIFY answers (as the front step's default). */
const EDNS_UDP_SIZE = 1232;

/** Signs every message of a transfer: the first with the request MAC, the rest chained (RFC 8945 §5.3.1). */
function* signStream(messages: Iterable<Uint8Array>, key: TsigKey, requestMac: Uint8Array): Generator<Uint8Array> {
  let prior: Uint8Array | undefined;
  for (const m of messages) {
    const s = prior ? signMessage(m, key, { priorMac: prior }) : signMessage(m, key, { requestMac });
    prior = s.mac;
    yield s.wire;
  }
}

