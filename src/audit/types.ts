import type { ClientError, QueryResult, TransferResult } from '../transport/client.js';
import type { Message, Name } from '../wire/index.js';

export type Severity = 'info' | 'warning' | 'high';

/** Stable finding ids; documented in docs/audit.md. Never rename one (scripts match on them). */
export const FINDING_IDS = [
  'unreachable',
  'udp-open',
  'tcp-open',
  'tcp-missing',
  'version-disclosure',
  'open-recursion',
  'cache-snooping',
  'zone-transfer-open',
  'amplification',
  'no-rate-limit',
  'tcp-fallback',
  'edns-compliance',
  'no-cookies',
  'dnssec-missing',
  'dnssec-broken',
  'any-not-minimal',
] as const;
export type FindingId = (typeof FINDING_IDS)[number];

export interface FirewallRules {
  iptables: string;
  nftables: string;
  ufw: string;
}

/** How to fix a finding, per server software, plus firewall rules for the `--allow` networks. */
export interface Remediation {
  summary: string;
  portcullis: string;
  bind: string;
  unbound: string;
  nsd: string;
  knot: string;
  powerdns: string;
  dnsmasq: string;
  firewall?: FirewallRules;
}

/** What a check observed, before remediation advice is attached. */
export interface Observation {
  id: FindingId;
  severity: Severity;
  title: string;
  evidence: string;
}

export interface Finding extends Observation {
  remediation: Remediation;
}

export type CheckStatus = 'finding' | 'pass' | 'skipped' | 'error';

/** One line per check that ran, findings or not, so a clean report still shows what was tried. */
export interface CheckRecord {
  check: string;
  status: CheckStatus;
  detail: string;
}

export interface AuditReport {
  target: string;
  port: number;
  reachable: boolean;
  /** Worst severity first. */
  findings: Finding[];
  checks: CheckRecord[];
  /** Probes sent (UDP queries, TCP queries, transfers), for the "polite" claim. */
  probes: number;
  exitCode: number;
}

/**
 * The network seen by the checks: one target, a timeout per probe. Every method throws only
 * `ClientError`. Tests pass a client aimed at an in-process fake server.
 */
export interface AuditClient {
  udp(msg: Message): Promise<QueryResult>;
  tcp(msg: Message): Promise<QueryResult>;
  axfr(msg: Message): Promise<TransferResult>;
  /** Number of probes sent so far. */
  readonly probes: number;
}

export interface AuditOptions {
  /** As the user wrote it (address or host name). */
  target: string;
  port: number;
  zones: Name[];
  probeName: Name;
  /** CIDRs allowed to reach port 53, for the generated firewall rules. */
  allow: string[];
  /** Per-probe timeout in milliseconds. */
  timeout: number;
  /** Queries in the rate-limit burst (at most 200). */
  burstCount: number;
  /** Window over which the burst is spread, in ms (at most 2000). */
  burstWindow: number;
}

/** A UDP exchange kept for the amplification check. */
export interface SizeSample {
  label: string;
  querySize: number;
  responseSize: number;
  tc: boolean;
}

/** State shared by the checks, which run in a fixed order. */
export interface AuditContext {
  client: AuditClient;
  options: AuditOptions;
  observations: Observation[];
  checks: CheckRecord[];
  samples: SizeSample[];
  udpAnswers: boolean;
  tcpAnswers: boolean;
  /** Set by the recursion check: the server recursed for the probe name. */
  recursion?: boolean;
  /** Set by the rate-limit check: the burst was limited (dropped or slipped). */
  rateLimited?: boolean;
  /** Set by the cookies check. */
  cookies?: boolean;
}

export function isClientError(e: unknown): e is ClientError {
  return e instanceof Error && e.name === 'ClientError';
}
