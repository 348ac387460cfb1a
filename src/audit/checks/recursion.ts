import { Rcode, recordToText, RRType, type Message } from '../../wire/index.js';
import { describeAnswer, describeOutcome, note, query, report, tryTcp, tryUdp } from '../probe.js';
import type { AuditContext } from '../types.js';

function answerText(m: Message): string {
  const lines = m.answer.slice(0, 3).map((rr) => recordToText(rr).replace(/\t/g, ' '));
  if (m.answer.length > 3) lines.push(`… ${m.answer.length - 3} more`);
  return lines.join('; ');
}

/**
 * `open-recursion`: ask for the probe name, a name the target should not be authoritative for,
 * with RD set. An answer that is not authoritative (AA clear) came from recursion or a
 * forwarder. SERVFAIL with RA set means recursion is offered but failed: still a warning,
 * because the next query may succeed.
 */
export async function checkRecursion(ctx: AuditContext): Promise<void> {
  const send = ctx.udpAnswers ? tryUdp : tryTcp;
  const name = ctx.options.probeName;
  const o = await send(ctx, query(name, RRType.A, { rd: true }));
  if (!o.ok) {
    note(ctx, 'open-recursion', 'pass', `${name} A +rd: ${describeOutcome(o)}`);
    ctx.recursion = false;
    return;
  }
  const m = o.res.message;
  const evidence = `${name} A with RD set: ${describeAnswer(o.res)}${m.answer.length ? ` (${answerText(m)})` : ''}`;
  const resolved = (m.rcode === Rcode.NOERROR && (m.answer.length > 0 || m.ra)) || (m.rcode === Rcode.NXDOMAIN && m.ra);
  if (m.aa && !m.ra) {
    note(ctx, 'open-recursion', 'skipped', `the target is authoritative for the probe name, so recursion was not tested; pass --probe-name with a name outside its zones (${evidence})`);
    ctx.recursion = false;
  } else if (resolved) {
    ctx.recursion = true;
    report(ctx, {
      id: 'open-recursion',
      severity: 'high',
      title: 'Open resolver: the server recurses for this client',
      evidence,
    });
  } else if (m.rcode === Rcode.SERVFAIL && m.ra) {
    ctx.recursion = true;
    report(ctx, {
      id: 'open-recursion',
      severity: 'warning',
      title: 'Recursion is offered to this client (this resolution failed)',
      evidence,
    });
  } else {
    ctx.recursion = false;
    note(ctx, 'open-recursion', 'pass', evidence);
  }
}

/**
 * `cache-snooping`: the same probe name without RD. A non-authoritative answer with records
 * comes from the cache, so anyone can learn which names the server's users visit.
 */
export async function checkCacheSnooping(ctx: AuditContext): Promise<void> {
  const send = ctx.udpAnswers ? tryUdp : tryTcp;
  const name = ctx.options.probeName;
  const o = await send(ctx, query(name, RRType.A, { rd: false }));
  if (!o.ok) {
    note(ctx, 'cache-snooping', 'pass', `${name} A without RD: ${describeOutcome(o)}`);
    return;
  }
  const m = o.res.message;
  const evidence = `${name} A without RD: ${describeAnswer(o.res)}${m.answer.length ? ` (${answerText(m)})` : ''}`;
  if (m.rcode === Rcode.NOERROR && m.answer.length > 0 && !m.aa) {
    report(ctx, {
      id: 'cache-snooping',
      severity: 'warning',
      title: 'Cache snooping: non-recursive queries are answered from the cache',
      evidence,
    });
  } else note(ctx, 'cache-snooping', 'pass', evidence);
}
