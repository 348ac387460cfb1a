import { Name, RRType } from '../../wire/index.js';
import { note, query, report, tryUdp } from '../probe.js';
import type { AuditContext, SizeSample } from '../types.js';

/** Types that make the largest answers (RFC 8482 §1, the usual reflection-attack choices). */
const AMPLIFYING = [RRType.ANY, RRType.DNSKEY, RRType.TXT];

/** Names to probe: the zones, else the probe name when the server recurses, else the root. */
function names(ctx: AuditContext): Name[] {
  if (ctx.options.zones.length) return ctx.options.zones;
  return ctx.recursion ? [ctx.options.probeName] : [Name.root];
}

/**
 * `amplification`, part 1: the probes. ANY, DNSKEY and TXT over UDP with a 4096-byte EDNS
 * buffer and no cookie, as an attacker would send them. The ratio is computed later (over
 * every UDP exchange of the audit) by `reportAmplification`, once the rate-limit check knows
 * whether responses are limited.
 */
export async function probeAmplification(ctx: AuditContext): Promise<void> {
  if (!ctx.udpAnswers) return;
  for (const name of names(ctx)) {
    for (const type of AMPLIFYING) {
      await tryUdp(ctx, query(name, type, { rd: ctx.recursion === true && !ctx.options.zones.length, edns: { udpSize: 4096, do: true } }));
    }
  }
}

export function worstSample(samples: readonly SizeSample[]): { sample: SizeSample; factor: number } | undefined {
  let best: { sample: SizeSample; factor: number } | undefined;
  for (const s of samples) {
    const factor = s.responseSize / s.querySize;
    if (!best || factor > best.factor) best = { sample: s, factor };
  }
  return best;
}

/** Severity rule, documented in docs/audit.md. */
export function amplificationSeverity(factor: number, rateLimited: boolean): 'info' | 'warning' | 'high' {
  if (factor >= 10) return rateLimited ? 'warning' : 'high';
  if (factor >= 4) return rateLimited ? 'info' : 'warning';
  return 'info';
}

/** `amplification`, part 2: the worst bytes-out / bytes-in factor over UDP. */
export function reportAmplification(ctx: AuditContext): void {
  const worst = worstSample(ctx.samples);
  if (!worst) {
    note(ctx, 'amplification', 'skipped', 'no UDP answers to measure');
    return;
  }
  const f = Math.round(worst.factor * 10) / 10;
  const s = worst.sample;
  const top = [...ctx.samples]
    .sort((a, b) => b.responseSize / b.querySize - a.responseSize / a.querySize)
    .slice(0, 4)
    .map((x) => `${x.label}: ${x.querySize} → ${x.responseSize} bytes${x.tc ? ' (TC)' : ''}`);
  const severity = amplificationSeverity(worst.factor, ctx.rateLimited === true);
  report(ctx, {
    id: 'amplification',
    severity,
    title: `UDP amplification factor ${f}× (${s.label})`,
    evidence: `worst of ${ctx.samples.length} UDP exchanges without cookies: ${top.join('; ')}` +
      (ctx.rateLimited ? '; responses are rate-limited, which caps the reflected volume' : '; responses are not rate-limited'),
  });
}
