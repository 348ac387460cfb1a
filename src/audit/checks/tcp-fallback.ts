import { Name, RRType, type Message } from '../../wire/index.js';
import { describeOutcome, note, query, report, tryTcp, tryUdp } from '../probe.js';
import type { AuditContext } from '../types.js';

/**
 * `tcp-fallback`: provoke a truncated UDP answer (large types, no EDNS so the limit is 512
 * bytes, then EDNS with 512) and check the same question over TCP is answered in full.
 */
export async function checkTcpFallback(ctx: AuditContext): Promise<void> {
  if (!ctx.udpAnswers) {
    note(ctx, 'tcp-fallback', 'skipped', 'the target does not answer over UDP');
    return;
  }
  const names = ctx.options.zones.length ? ctx.options.zones : [ctx.recursion ? ctx.options.probeName : Name.root];
  let truncated: { msg: Message; label: string; answers: number } | undefined;
  outer: for (const name of names) {
    for (const type of [RRType.ANY, RRType.DNSKEY, RRType.TXT, RRType.NS]) {
      for (const edns of [undefined, { udpSize: 512, do: true }]) {
        const msg = query(name, type, { edns, rd: ctx.recursion === true && !ctx.options.zones.length });
        const o = await tryUdp(ctx, msg);
        if (o.ok && o.res.message.tc) {
          truncated = { msg, label: `${name} ${type === RRType.ANY ? 'ANY' : type === RRType.DNSKEY ? 'DNSKEY' : type === RRType.TXT ? 'TXT' : 'NS'}${edns ? ' (edns 512)' : ' (no edns)'}`, answers: o.res.message.answer.length };
          break outer;
        }
      }
    }
  }
  if (!truncated) {
    note(ctx, 'tcp-fallback', 'skipped', 'no truncated UDP answer could be provoked (answers fit in 512 bytes)');
    return;
  }
  const t = await tryTcp(ctx, truncated.msg);
  if (t.ok && !t.res.message.tc && t.res.message.rcode === 0 && t.res.message.answer.length >= truncated.answers) {
    note(ctx, 'tcp-fallback', 'pass', `${truncated.label}: truncated over UDP (${truncated.answers} answers), complete over TCP (${describeOutcome(t)})`);
    return;
  }
  report(ctx, {
    id: 'tcp-fallback',
    severity: 'high',
    title: 'A truncated UDP answer cannot be completed over TCP',
    evidence: `${truncated.label}: TC over UDP; over TCP: ${describeOutcome(t)}${t.ok && t.res.message.tc ? ' (still truncated)' : ''}`,
  });
}
