import type { Message } from '../wire/index.js';
import type { FastNext, FastQuery, FastResult } from './fast.js';

/** Where a request came from / arrived on. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

export type TransportKind = 'udp' | 'tcp' | 'tls' | 'https';

/**
 * A query as a transport hands it to the pipeline. The transport decodes; steps read.
 * `state` is the scratch space where earlier phases leave decisions for later ones
 * (the chosen view, whether recursion is allowed, a validated cookie, ...).
 */
export interface Request {
  readonly message: Message;
  /** The bytes as received (for TSIG, dnstap, size ratios). */
  readonly raw: Uint8Array;
  readonly client: Endpoint;
  readonly local: Endpoint;
  readonly transport: TransportKind;
  /** The listener's configured address, e.g. "127.0.0.1:5353". */
  readonly listener: string;
  /** process.hrtime.bigint() at arrival, for latency. */
  readonly receivedAt: bigint;
  readonly state: RequestState;
}

export interface RequestState {
  view?: string;
  /** Set by the accept phase: may this client recurse? */
  recursionAllowed?: boolean;
  /** Set by the cookie step when the client sent a valid server cookie. */
  validCookie?: boolean;
  /** Zone that answered, for metrics and logs. */
  zone?: string;
  [key: string]: unknown;
}

/**
 * What a step returns. Either a message for finalize to size and encode, or ready bytes
 * (`wire`, a precompiled answer with ID and question case already patched), or `drop`.
 * Replies are not mutated after they are built; a later phase makes a new one.
 */
export interface Reply {
  readonly message?: Message;
  readonly wire?: Uint8Array;
  readonly drop?: boolean;
  /**
   * A multi-message reply (zone transfers, RFC 5936 §2.2): encoded messages written in order,
   * each framed, waiting for the client to read before producing the next (backpressure).
   * TCP only; over UDP a stream is dropped. Takes precedence over `wire`.
   */
  readonly stream?: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** Why (for logs and metrics): e.g. "acl", "rate-limit", "formerr". */
  readonly reason?: string;
}

export type Next = (req: Request) => Promise<Reply>;

/** Pipeline phases, in the order they run (DESIGN.md "How a query flows"). */
export type Phase = 'accept' | 'route' | 'policy' | 'answer' | 'finalize';
export const PHASES: readonly Phase[] = ['accept', 'route', 'policy', 'answer', 'finalize'];

/** One step of the pipeline. It returns a Reply and never writes to a socket. */
export interface Step {
  readonly name: string;
  readonly phase: Phase;
  handle(req: Request, next: Next): Promise<Reply>;
  /**
   * The synchronous fast path (fast.ts) for a plain UDP query: the same decision as `handle`
   * for what the step has ready, or SLOW (undefined) for everything else. It must not change
   * any state (counters, buckets, windows) unless it returns an answer or FAST_DROP. A
   * pipeline with any step lacking `fast` has no fast path.
   */
  fast?(q: FastQuery, next: FastNext): FastResult;
}

/** What a transport calls for every decoded request. */
export type Handler = (req: Request) => Promise<Reply>;
