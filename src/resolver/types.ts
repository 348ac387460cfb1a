import type { Security } from '../dnssec/validate.js';
import type { Message, Name, ResourceRecord } from '../wire/index.js';

/** Where an upstream query goes. */
export interface ServerAddress {
  readonly address: string;
  readonly port: number;
}

export interface QueryOptions {
  readonly tcp: boolean;
  /** Milliseconds before the query is given up. */
  readonly timeout: number;
  /** The zone (bailiwick) the server is asked as an authority for; for logs such as dnstap. */
  readonly zone?: Name;
}

/**
 * Sends one query and returns the matching response. Implementations own anti-spoofing: the
 * real one uses a fresh socket (random source port) and a random ID per query and accepts
 * only a packet from the server's address and port with that ID and question. Tests inject a
 * scripted one.
 */
export interface Upstream {
  query(server: ServerAddress, msg: Message, opts: QueryOptions): Promise<Message>;
}

export type UpstreamErrorKind = 'timeout' | 'network' | 'malformed' | 'forbidden' | 'case-mismatch';

export class UpstreamError extends Error {
  constructor(readonly kind: UpstreamErrorKind, message: string) {
    super(message);
    this.name = 'UpstreamError';
  }
}

/** Time source: milliseconds. Injected so scenarios run on virtual time. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to (tests, scripted scenarios). */
export class ManualClock implements Clock {
  constructor(private t = 1_000_000_000_000) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Hard limits on the work done for one client query (against NXNS-style amplification and loops). */
export interface Limits {
  /** Upstream queries sent in total. */
  maxQueries: number;
  /** NS names whose addresses are looked up (glueless delegations). */
  maxNsNames: number;
  /** CNAME/DNAME links followed. */
  maxCnameChain: number;
  /** Nesting of sub-resolutions (NS address lookups inside lookups). */
  maxDepth: number;
  /** Referrals followed in one iteration. */
  maxReferrals: number;
}

export const defaultLimits: Limits = {
  maxQueries: 64,
  maxNsNames: 12,
  maxCnameChain: 12,
  maxDepth: 6,
  maxReferrals: 24,
};

/** What `Resolver.resolve` returns: the sections of the answer for the client. */
export interface ResolveResult {
  rcode: number;
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
  /** RFC 8914 Extended DNS Error, set on SERVFAIL and on stale answers. */
  ede?: { infoCode: number; text: string };
  /** DNSSEC state of the whole answer (undefined when not validated). */
  security?: Security;
  /** Every part validated as secure: the AD bit may be set (RFC 4035 §3.2.3). */
  ad?: boolean;
  /**
   * Answered without any upstream query for this question (cache, RFC 8198 synthesis, RFC 8020
   * cut): a cache hit for the monitor's hit ratio. False when the client joined a resolution in
   * flight or got a stale answer after (or while) upstream was asked.
   */
  fromCache?: boolean;
}

export interface ResolveOptions {
  rd?: boolean;
  cd?: boolean;
  do?: boolean;
}
