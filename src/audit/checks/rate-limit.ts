import { Name, RRType } from '../../wire/index.js';
import { note, query, report } from '../probe.js';
import { isClientError, type AuditContext } from '../types.js';

/**
 * `no-rate-limit`: a short burst of identical queries (at most 200, spread over at most 2 s).
 * A server with response rate limiting (RRL) drops some answers or "slips" truncated ones;
 * a server that answers every one in full would reflect a flood at a spoofed victim.
 */
export async function checkRateLimit(ctx: AuditContext): Promise<void> {
  if (!ctx.udpAnswers) {
    note(ctx, 'no-rate-limit', 'skipped', 'the target does not answer over UDP');
    return;
  }
  const count = Math.max(1, Math.min(200, ctx.options.burstCount));
  const window = Math.max(0, Math.min(2000, ctx.options.burstWindow));
  const name = ctx.options.zones[0] ?? (ctx.recursion ? ctx.options.probeName : Name.root);
  const msg = query(name, ctx.options.zones[0] ? RRType.SOA : RRType.A, { rd: ctx.recursion === true && !ctx.options.zones[0] });
  let full = 0;
  let slipped = 0;
  let lost = 0;
  const other: string[] = [];
  const sends: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const at = (i * window) / count;
    const wait = at - (performance.now() - started);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sends.push(
      ctx.client.udp(msg).then(
        (res) => {
          if (res.message.tc) slipped++;
          else if (res.message.rcode === 0 || res.message.rcode === 3) full++;
          else other.push(String(res.message.rcode));
        },
        (e) => {
          if (!isClientError(e)) throw e;
          lost++;
        },
      ),
    );
  }
  await Promise.all(sends);
  const elapsed = Math.round(performance.now() - started);
  const summary = `${count} identical queries (${name} ${msg.question[0]!.type === RRType.SOA ? 'SOA' : 'A'}) over ${window} ms: ${full} answered in full, ${slipped} truncated (slip), ${lost} unanswered${other.length ? `, ${other.length} error rcodes` : ''} (${elapsed} ms)`;
  ctx.rateLimited = slipped + lost > 0;
  if (full === count) {
    report(ctx, {
      id: 'no-rate-limit',
      severity: 'warning',
      title: 'No response rate limiting: every query of a burst was answered in full',
      evidence: summary,
    });
  } else note(ctx, 'no-rate-limit', 'pass', summary);
}
