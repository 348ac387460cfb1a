import type { Next, Reply, Request, Step } from '../transport/handler.js';
import { FAST_DROP, SLOW, type FastNext, type FastQuery, type FastResult } from '../transport/fast.js';
import { Rcode, RRType, type Message } from '../wire/index.js';
import { addressBytes, isMappedV4, maskBytes } from './address.js';
import type { Acl } from './acl.js';

/**
 * Response Rate Limiting with the semantics operators know from BIND and Knot.
 *
 * Responses are accounted per (client prefix, category, name) in token buckets: a bucket earns
 * `rate` credits per second up to `rate` (a one-second burst) and each response sent spends one,
 * so a flood from one prefix gets about `rate` answers per second, as with Knot. (BIND also
 * debits the responses it drops, which silences a sustained flood entirely; we keep answering at
 * the configured rate so a real client sharing the victim's prefix still gets through.) A
 * response from an empty bucket is limited: every `slip`-th one goes out as an empty truncated
 * reply (real clients retry over TCP, spoofed victims get tiny packets), the rest are dropped.
 * `window` is how long an idle bucket and its slip count are remembered. TCP, clients with a
 * valid server cookie and `exempt` clients are never limited: they cannot be spoofed.
 */
export interface RateLimitOptions {
  /** Identical non-empty answers per second (0: unlimited). */
  responsesPerSecond: number;
  nxdomainsPerSecond?: number;
  nodataPerSecond?: number;
  referralsPerSecond?: number;
  errorsPerSecond?: number;
  /** Seconds an idle bucket is remembered (BIND `window`, default 15). */
  window?: number;
  /** Every Nth limited response is sent truncated; 0 never, 1 always (default 2). */
  slip?: number;
  ipv4PrefixLength?: number;
  ipv6PrefixLength?: number;
  exempt?: Acl;
  /** Count and log what would be limited, limit nothing. */
  logOnly?: boolean;
  /** Bucket table size cap; the least recently used buckets go first. */
  maxBuckets?: number;
  /** Milliseconds clock, injectable for tests. */
  now?: () => number;
}

export type RateCategory = 'responses' | 'nxdomains' | 'nodata' | 'referrals' | 'errors';

export interface RateLimitStats {
  responses: number;
  limited: number;
  dropped: number;
  slipped: number;
  logOnly: number;
}

interface Bucket {
  balance: number;
  last: number;
  slipCount: number;
}

export class RateLimiter {
  readonly stats: RateLimitStats = { responses: 0, limited: 0, dropped: 0, slipped: 0, logOnly: 0 };
  private readonly buckets = new Map<string, Bucket>();
  private readonly window: number;
  private readonly slip: number;
  private readonly maxBuckets: number;
  private readonly now: () => number;

  constructor(readonly opts: RateLimitOptions) {
    this.window = opts.window ?? 15;
    this.slip = opts.slip ?? 2;
    this.maxBuckets = opts.maxBuckets ?? 200_000;
    this.now = opts.now ?? Date.now;
  }

  rateFor(category: RateCategory): number {
    const o = this.opts;
    switch (category) {
      case 'responses': return o.responsesPerSecond;
      case 'nxdomains': return o.nxdomainsPerSecond ?? o.responsesPerSecond;
      case 'nodata': return o.nodataPerSecond ?? o.responsesPerSecond;
      case 'referrals': return o.referralsPerSecond ?? o.responsesPerSecond;
      case 'errors': return o.errorsPerSecond ?? o.responsesPerSecond;
    }
  }

  /** The client's prefix as text, the unit of accounting. */
  clientPrefix(address: string): string {
    const b = addressBytes(address);
    if (!b) return address;
    const v4 = isMappedV4(b);
    const len = v4 ? 96 + (this.opts.ipv4PrefixLength ?? 24) : (this.opts.ipv6PrefixLength ?? 56);
    return Buffer.from(maskBytes(b, len)).toString('hex') + '/' + len;
  }

  /**
   * Accounts one response; returns 'send', 'slip' (send truncated) or 'drop'.
   * In log-only mode limited responses are counted but 'send' is returned.
   */
  account(clientAddress: string, category: RateCategory, name: string): 'send' | 'slip' | 'drop' {
    const rate = this.rateFor(category);
    this.stats.responses++;
    if (!rate) return 'send';
    const key = `${this.clientPrefix(clientAddress)}|${category}|${name}`;
    const t = this.now() / 1000;
    let b = this.buckets.get(key);
    if (b && t - b.last > this.window) b = undefined;
    if (b) {
      this.buckets.delete(key); // re-insert below: Map order is our LRU order
      b.balance = Math.min(rate, b.balance + (t - b.last) * rate);
      b.last = t;
    } else {
      b = { balance: rate, last: t, slipCount: 0 };
      this.buckets.delete(key);
      if (this.buckets.size >= this.maxBuckets) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    }
    this.buckets.set(key, b);
    if (b.balance >= 1) {
      b.balance -= 1;
      return 'send';
    }
    this.stats.limited++;
    if (this.opts.logOnly) {
      this.stats.logOnly++;
      return 'send';
    }
    b.slipCount++;
    if (this.slip > 0 && b.slipCount % this.slip === 0) {
      this.stats.slipped++;
      return 'slip';
    }
    this.stats.dropped++;
    return 'drop';
  }

  get bucketCount(): number {
    return this.buckets.size;
  }
}

/** Category and accounting name of a response (BIND: per qname for answers, per zone for misses). */
export function classify(req: Request, msg: Pick<Message, 'rcode' | 'answer' | 'authority'>): { category: RateCategory; name: string } {
  const q = req.message.question[0];
  return classifyReply(q ? q.name.key : '.', q?.type ?? 0, msg);
}

/** classify() from the question's name key and type (the fast path has no Request). */
function classifyReply(qname: string, qtype: number, msg: Pick<Message, 'rcode' | 'answer' | 'authority'>): { category: RateCategory; name: string } {
  if (msg.rcode === Rcode.NXDOMAIN) return { category: 'nxdomains', name: zoneOf(msg) ?? qname };
  if (msg.rcode !== Rcode.NOERROR) return { category: 'errors', name: '' };
  if (msg.answer.length > 0) return { category: 'responses', name: `${qname}/${qtype}` };
  const ns = msg.authority.find((r) => r.type === RRType.NS);
  if (ns && !msg.authority.some((r) => r.type === RRType.SOA)) return { category: 'referrals', name: ns.name.key };
  return { category: 'nodata', name: zoneOf(msg) ?? qname };
}

function zoneOf(msg: Pick<Message, 'authority'>): string | undefined {
  return msg.authority.find((r) => r.type === RRType.SOA)?.name.key;
}

/** The pipeline step (phase `accept`): it lets the query through, then limits the reply. */
export class RateLimitStep implements Step {
  readonly name = 'rate-limit';
  readonly phase = 'accept' as const;

  constructor(readonly limiter: RateLimiter) {}

  fast(q: FastQuery, next: FastNext): FastResult {
    return rateLimitFast(this.limiter, q, next);
  }

  async handle(req: Request, next: Next): Promise<Reply> {
    const reply = await next(req);
    if (reply.drop || req.transport !== 'udp' || req.state.validCookie) return reply;
    const exempt = this.limiter.opts.exempt;
    if (exempt && exempt.allows({ address: req.client.address })) return reply;
    const view = reply.message ?? headerView(reply.wire);
    if (!view) return reply;
    const { category, name } = classify(req, view);
    const verdict = this.limiter.account(req.client.address, category, name);
    if (verdict === 'send') return reply;
    if (verdict === 'drop') return { drop: true, reason: 'rate-limit' };
    const base = reply.message ?? req.message;
    return {
      message: {
        ...base, qr: true, tc: true, aa: false, answer: [], authority: [], additional: [], rcode: view.rcode,
        edns: base.edns ? { ...base.edns, options: [] } : undefined,
      },
      reason: 'rate-limit-slip',
    };
  }
}

/**
 * The fast path's rate limiting: the same accounting as `RateLimitStep.handle` for a
 * precompiled answer (classified by its header, named by the question). A slip is built from
 * the query's own bytes: header flags copied, QR and TC set, AA clear, the answer's rcode, no
 * records (the front step adds the OPT).
 */
export function rateLimitFast(limiter: RateLimiter, q: FastQuery, next: FastNext): FastResult {
  const wire = next(q);
  if (!wire || q.validCookie) return wire;
  const exempt = limiter.opts.exempt;
  if (exempt && exempt.allows({ address: q.client })) return wire;
  // The accounting name is the question's Name.key; without a Name at hand, the pipeline.
  const qname = q.qname;
  if (qname === undefined) return SLOW;
  const { category, name } = classifyReply(qname.key, q.qtype, headerView(wire)!);
  const verdict = limiter.account(q.client, category, name);
  if (verdict === 'send') return wire;
  q.rateLimited = true;
  if (verdict === 'drop') return FAST_DROP;
  const raw = q.raw;
  const end = q.qnameEnd + 4;
  const out = Buffer.allocUnsafe(end);
  out.set(raw.subarray(0, end));
  out[2] = (raw[2]! | 0x82) & ~0x04;
  out[3] = (raw[3]! & 0xf0) | (wire[3]! & 0xf);
  out[6] = out[7] = out[8] = out[9] = out[10] = out[11] = 0;
  return out;
}

/** Enough of a precompiled wire answer to classify it: rcode and whether it has answers. */
function headerView(wire: Uint8Array | undefined): Pick<Message, 'rcode' | 'answer' | 'authority'> | undefined {
  if (!wire || wire.length < 12) return undefined;
  const an = (wire[6]! << 8) | wire[7]!;
  // Answer records are not decoded: the accounting name comes from the question.
  return { rcode: wire[3]! & 0xf, answer: an ? [undefined as never] : [], authority: [] };
}
