import { RRType, typeToString } from '../../wire/index.js';
import { describeOutcome, note, query, report, tryTcp, tryUdp } from '../probe.js';
import type { AuditContext } from '../types.js';

/**
 * `any-not-minimal`: RFC 8482 lets a server answer ANY with one RRset (or a synthesized HINFO),
 * or push it to TCP with TC. Returning every RRset over UDP is what reflection attacks want.
 */
export async function checkAny(ctx: AuditContext): Promise<void> {
  if (!ctx.options.zones.length) {
    note(ctx, 'any-not-minimal', 'skipped', 'no --zone given');
    return;
  }
  const full: string[] = [];
  const minimal: string[] = [];
  for (const zone of ctx.options.zones) {
    const msg = query(zone, RRType.ANY, { edns: { udpSize: 4096 } });
    const o = ctx.udpAnswers ? await tryUdp(ctx, msg) : await tryTcp(ctx, msg);
    if (!o.ok) {
      minimal.push(`${zone} ANY: ${describeOutcome(o)}`);
      continue;
    }
    const m = o.res.message;
    const types = [...new Set(m.answer.filter((r) => r.type !== RRType.RRSIG).map((r) => r.type))];
    const text = `${zone} ANY: ${describeOutcome(o)}, types ${types.map(typeToString).join(' ') || 'none'}`;
    if (types.length > 1) full.push(text);
    else minimal.push(m.tc && m.answer.length === 0 ? `${text} (sent to TCP with TC)` : text);
  }
  if (full.length) {
    report(ctx, { id: 'any-not-minimal', severity: 'warning', title: 'ANY queries get every RRset (RFC 8482 allows a minimal answer)', evidence: full.join('; ') });
  } else note(ctx, 'any-not-minimal', 'pass', minimal.join('; '));
}
