import type { Next, Reply, Request, Step } from '../transport/handler.js';
import { SLOW, type FastNext, type FastQuery, type FastResult } from '../transport/fast.js';
import { EdnsOptionCode, Rcode, type EdnsOption } from '../wire/index.js';
import { CookieJar } from './cookies.js';

/**
 * DNS Cookies in the pipeline (phase `accept`). A query's COOKIE option is checked; a valid
 * server cookie marks the request (`state.validCookie`), which exempts it from rate limiting and
 * size-ratio truncation. Every response to a query with a cookie carries ours back: the step
 * leaves it in `state.responseOptions`, which the finalize step appends to the OPT record.
 * A malformed COOKIE option is FORMERR (RFC 7873 §5.2.2).
 */
export class CookieStep implements Step {
  readonly name = 'cookies';
  readonly phase = 'accept' as const;
  checked = 0;
  valid = 0;

  constructor(readonly jar: CookieJar) {}

  /**
   * The same check for the fast path. A malformed option is FORMERR, built by the pipeline;
   * the counters move only once the query is answered here.
   */
  fast(q: FastQuery, next: FastNext): FastResult {
    const n = q.cookieLength;
    if (q.cookieOffset === 0) return next(q);
    if (n !== 8 && (n < 16 || n > 40)) return SLOW;
    const check = this.jar.check(q.raw.subarray(q.cookieOffset, q.cookieOffset + n), q.client);
    const valid = check.status === 'valid';
    q.validCookie = valid;
    q.cookieResponse = check.response;
    const out = next(q);
    if (out !== undefined) {
      this.checked++;
      if (valid) this.valid++;
    }
    return out;
  }

  async handle(req: Request, next: Next): Promise<Reply> {
    const opt = req.message.edns?.options.find((o) => o.code === EdnsOptionCode.COOKIE);
    if (!opt) return next(req);
    const n = opt.data.length;
    if (n !== 8 && (n < 16 || n > 40)) {
      return {
        message: { ...req.message, qr: true, rcode: Rcode.FORMERR, answer: [], authority: [], additional: [] },
        reason: 'bad-cookie-option',
      };
    }
    this.checked++;
    const check = this.jar.check(opt.data, req.client.address);
    if (check.status === 'valid') {
      this.valid++;
      req.state.validCookie = true;
    }
    addResponseOption(req, { code: EdnsOptionCode.COOKIE, data: check.response });
    return next(req);
  }
}

/** Options a step wants in the response's OPT record (appended by finalize). */
export function addResponseOption(req: Request, option: EdnsOption): void {
  const list = (req.state.responseOptions as EdnsOption[] | undefined) ?? [];
  list.push(option);
  req.state.responseOptions = list;
}
