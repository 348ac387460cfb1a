import { RRClass, RRType, rcodeToString, type Name } from '../../wire/index.js';
import { describeOutcome, note, query, report, tryTcp } from '../probe.js';
import { isClientError, type AuditContext } from '../types.js';

/**
 * `zone-transfer-open`: AXFR and IXFR (from serial 0, which forces a full transfer or an
 * AXFR-style answer) of every `--zone`, without TSIG, over TCP.
 */
export async function checkTransfer(ctx: AuditContext): Promise<void> {
  if (ctx.options.zones.length === 0) {
    note(ctx, 'zone-transfer-open', 'skipped', 'no --zone given');
    return;
  }
  if (!ctx.tcpAnswers) {
    note(ctx, 'zone-transfer-open', 'skipped', 'the target does not answer over TCP');
    return;
  }
  const open: string[] = [];
  const closed: string[] = [];
  for (const zone of ctx.options.zones) {
    const axfr = await tryAxfr(ctx, zone);
    (axfr.open ? open : closed).push(axfr.text);
    const ixfr = await tryIxfr(ctx, zone);
    (ixfr.open ? open : closed).push(ixfr.text);
  }
  if (open.length) {
    report(ctx, {
      id: 'zone-transfer-open',
      severity: 'high',
      title: 'Zone transfer allowed without TSIG: anyone can list the whole zone',
      evidence: open.join('; '),
    });
  } else note(ctx, 'zone-transfer-open', 'pass', closed.join('; '));
}

async function tryAxfr(ctx: AuditContext, zone: Name): Promise<{ open: boolean; text: string }> {
  try {
    const res = await ctx.client.axfr(query(zone, RRType.AXFR));
    const names = new Set(res.records.map((r) => r.name.key)).size;
    return { open: true, text: `AXFR ${zone}: ${res.records.length} records, ${names} names, ${res.bytes} bytes in ${res.messages.length} messages` };
  } catch (e) {
    if (!isClientError(e)) throw e;
    const why = e.response ? rcodeToString(e.response.rcode) : `${e.kind}: ${e.message}`;
    return { open: false, text: `AXFR ${zone}: refused (${why})` };
  }
}

async function tryIxfr(ctx: AuditContext, zone: Name): Promise<{ open: boolean; text: string }> {
  const msg = query(zone, RRType.IXFR);
  msg.authority.push({
    name: zone, type: RRType.SOA, class: RRClass.IN, ttl: 0,
    data: { mname: zone, rname: zone, serial: 0, refresh: 0, retry: 0, expire: 0, minimum: 0 },
  });
  const o = await tryTcp(ctx, msg);
  // A single SOA means "you are up to date" or "ask again with AXFR": nothing leaked. Anything
  // more is zone content.
  if (o.ok && o.res.message.rcode === 0 && o.res.message.answer.length > 1) {
    return { open: true, text: `IXFR ${zone} from serial 0: ${o.res.message.answer.length} records in the first message` };
  }
  return { open: false, text: `IXFR ${zone}: ${describeOutcome(o)}` };
}
