import { checkAny } from './checks/any.js';
import { probeAmplification, reportAmplification } from './checks/amplification.js';
import { checkCookies } from './checks/cookies.js';
import { checkDnssec } from './checks/dnssec.js';
import { checkEdns } from './checks/edns.js';
import { checkRateLimit } from './checks/rate-limit.js';
import { checkCacheSnooping, checkRecursion } from './checks/recursion.js';
import { checkReachability } from './checks/reachability.js';
import { checkTcpFallback } from './checks/tcp-fallback.js';
import { checkTransfer } from './checks/transfer.js';
import { checkVersion } from './checks/version.js';
import { note } from './probe.js';
import { remediationFor } from './remediation.js';
import type { AuditClient, AuditContext, AuditOptions, AuditReport, Finding, Severity } from './types.js';

type Step = [name: string, run: (ctx: AuditContext) => Promise<void> | void];

/**
 * The checks in their order. Order matters: recursion primes the cache for the snooping check;
 * amplification probes run before the burst (which may trip rate limiting) and are judged after
 * it (a rate-limited server reflects less).
 */
const STEPS: Step[] = [
  ['version-disclosure', checkVersion],
  ['open-recursion', checkRecursion],
  ['cache-snooping', checkCacheSnooping],
  ['zone-transfer-open', checkTransfer],
  ['no-cookies', checkCookies],
  ['dnssec', checkDnssec],
  ['any-not-minimal', checkAny],
  ['edns-compliance', checkEdns],
  ['tcp-fallback', checkTcpFallback],
  ['amplification', probeAmplification],
  ['no-rate-limit', checkRateLimit],
  ['amplification', reportAmplification],
];

const RANK: Record<Severity, number> = { high: 2, warning: 1, info: 0 };

/** 0 no finding or only info, 1 warning, 2 high, 3 target unreachable. */
export function exitCodeFor(findings: readonly Finding[], reachable: boolean): number {
  if (!reachable) return 3;
  return findings.reduce((worst, f) => Math.max(worst, RANK[f.severity]), 0);
}

/** Runs every check against one target and builds the report. Never throws on network trouble. */
export async function runAudit(client: AuditClient, options: AuditOptions): Promise<AuditReport> {
  const ctx: AuditContext = { client, options, observations: [], checks: [], samples: [], udpAnswers: false, tcpAnswers: false };
  await checkReachability(ctx);
  const reachable = ctx.udpAnswers || ctx.tcpAnswers;
  if (reachable) {
    for (const [name, run] of STEPS) {
      try {
        await run(ctx);
      } catch (e) {
        // A bug in one check must not hide the others' findings.
        note(ctx, name, 'error', `check failed: ${(e as Error).message}`);
      }
    }
  }
  const findings: Finding[] = ctx.observations
    .map((o) => ({ ...o, remediation: remediationFor(o.id, options.allow, options.port) }))
    .sort((a, b) => RANK[b.severity] - RANK[a.severity]);
  return {
    target: options.target,
    port: options.port,
    reachable,
    findings,
    checks: ctx.checks,
    probes: client.probes,
    exitCode: exitCodeFor(findings, reachable),
  };
}
