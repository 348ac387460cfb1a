import type { Name } from '../wire/index.js';

/** Transports as the pipeline reports them (matches transport/handler.ts `TransportKind`). */
export type MonitorTransport = 'udp' | 'tcp' | 'tls' | 'https' | string;

/**
 * One answered (or dropped) query, as the finalize phase reports it. Built once per query, so
 * keep it flat: the monitor reads it synchronously and does not keep a reference to it.
 */
export interface QueryEvent {
  /** Milliseconds (Date.now() in the server; virtual time in tests). */
  readonly time: number;
  /** Client address, without the port. */
  readonly client: string;
  readonly transport: MonitorTransport;
  readonly qname: Name | string;
  /** Numeric RR type of the question. */
  readonly qtype: number;
  /** Numeric response code (ignored when flags.dropped). */
  readonly rcode: number;
  /** Size of the query as received. */
  readonly bytesIn: number;
  /** Size of the response as sent (0 when dropped). */
  readonly bytesOut: number;
  /** Zone that answered authoritatively, if any. */
  readonly zone?: string;
  readonly view?: string;
  readonly latencyMs: number;
  /**
   * Whether the query went the recursive path (cache or upstream). Optional: when absent, a query
   * without `zone` that was not refused, dropped or rate-limited counts as recursive. Drives the
   * cache hit ratio (hits are `flags.cached`; misses are recursive queries that were not cached).
   */
  readonly recursive?: boolean;
  readonly flags: QueryFlags;
}

export interface QueryFlags {
  /** Response was truncated (TC=1). */
  readonly tc: boolean;
  /** A rate-limit step answered (slipped) or dropped it. */
  readonly rateLimited: boolean;
  /** No response was sent. */
  readonly dropped: boolean;
  /** Answered from the cache. */
  readonly cached: boolean;
}

export type FindingType = 'tunneling' | 'exfiltration' | 'random-subdomain' | 'beaconing' | 'amplification';
export const FINDING_TYPES: readonly FindingType[] = [
  'tunneling', 'exfiltration', 'random-subdomain', 'beaconing', 'amplification',
];

export type Action = 'alert' | 'throttle' | 'block';

/** One detector finding, as `GET /api/alerts` returns it. */
export interface Alert {
  readonly type: FindingType;
  /** Registered domain (or zone) the finding is about; "" for client-only findings. */
  readonly domain: string;
  /** Client address (privacy-mapped as in the query log), or "*" when many clients take part. */
  readonly client: string;
  /** Highest score seen, 0..1. */
  readonly score: number;
  /** Time (ms) of the first and the latest evaluation above the threshold. */
  readonly first: number;
  readonly last: number;
  /** How many evaluations were above the threshold. */
  readonly count: number;
  readonly action: Action;
  /** While an action is in force: when it ends (ms). */
  readonly until?: number;
  /** The features behind the score, rounded for display. */
  readonly evidence: Record<string, number | string>;
}

/** What the pipeline should do with a query (undefined: answer normally). */
export interface Decision {
  readonly action: 'throttle' | 'block';
  /** REFUSED: the pipeline answers with it and the EDE below. */
  readonly rcode: number;
  /** Extended DNS Error (RFC 8914) saying why. */
  readonly ede: { readonly infoCode: number; readonly text: string };
  readonly reason: FindingType;
}
