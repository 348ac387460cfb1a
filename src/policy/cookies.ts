import { addressBytes, isMappedV4 } from './address.js';
import { siphash24 } from './siphash.js';

/**
 * DNS Cookies (RFC 7873) with interoperable server cookies (RFC 9018): Version 1, three reserved
 * bytes, a 32-bit timestamp and SipHash-2-4(secret, client cookie | version | reserved |
 * timestamp | client IP). Any server of an anycast group (BIND, Knot, us) sharing the secret
 * accepts the others' cookies.
 */
export interface CookieCheck {
  /** 'valid': server cookie verified; 'client-only': no server cookie; 'invalid': bad or stale. */
  readonly status: 'valid' | 'client-only' | 'invalid';
  /** The COOKIE option data to send back (client cookie + a fresh or reused server cookie). */
  readonly response: Uint8Array;
}

export interface CookieOptions {
  /** Current 16-byte secret. */
  secret: Uint8Array;
  /** Previous secret, still accepted during a rollover (RFC 9018 §4.4). */
  previousSecret?: Uint8Array;
  /** Seconds since the epoch (injectable for tests). */
  now?: () => number;
}

const HOUR = 3600;

export class CookieJar {
  constructor(private readonly opts: CookieOptions) {
    if (opts.secret.length !== 16) throw new RangeError('cookie secret must be 16 bytes (128 bits)');
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : Math.floor(Date.now() / 1000);
  }

  /** The server cookie for this client at `timestamp` with `secret`. */
  static serverCookie(secret: Uint8Array, clientCookie: Uint8Array, clientIp: string, timestamp: number): Uint8Array {
    const ip = addressBytes(clientIp);
    if (!ip) throw new RangeError(`bad client address ${clientIp}`);
    const ipBytes = isMappedV4(ip) ? ip.subarray(12) : ip;
    const input = new Uint8Array(8 + 8 + ipBytes.length);
    input.set(clientCookie.subarray(0, 8), 0);
    input[8] = 1;
    input[12] = (timestamp >>> 24) & 0xff;
    input[13] = (timestamp >>> 16) & 0xff;
    input[14] = (timestamp >>> 8) & 0xff;
    input[15] = timestamp & 0xff;
    input.set(ipBytes, 16);
    const out = new Uint8Array(16);
    out.set(input.subarray(8, 16));
    out.set(siphash24(secret, input), 8);
    return out;
  }

  /**
   * Checks a query's COOKIE option data (8 to 40 bytes, length already validated) and builds the
   * response cookie. A valid cookie younger than half an hour is reused; otherwise a fresh one is
   * minted (RFC 9018 §4.3). Cookies from more than an hour ago or 5 minutes in the future are stale.
   */
  check(data: Uint8Array, clientIp: string): CookieCheck {
    const now = this.now();
    const client = data.subarray(0, 8);
    const fresh = (): Uint8Array => concat(client, CookieJar.serverCookie(this.opts.secret, client, clientIp, now));
    if (data.length === 8) return { status: 'client-only', response: fresh() };
    if (data.length !== 24 || data[8] !== 1) return { status: 'invalid', response: fresh() };
    const ts = ((data[12]! << 24) >>> 0) + ((data[13]! << 16) | (data[14]! << 8) | data[15]!);
    // Serial-number arithmetic is overkill here: reject anything outside [now-1h, now+5min].
    if (ts > now + 300 || now - ts > HOUR) return { status: 'invalid', response: fresh() };
    const secrets = [this.opts.secret, this.opts.previousSecret].filter((s): s is Uint8Array => !!s);
    for (const secret of secrets) {
      const expect = CookieJar.serverCookie(secret, client, clientIp, ts);
      if (equalBytes(expect.subarray(8), data.subarray(16, 24))) {
        const reuse = secret === this.opts.secret && now - ts < HOUR / 2;
        return { status: 'valid', response: reuse ? concat(client, expect) : fresh() };
      }
    }
    return { status: 'invalid', response: fresh() };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
