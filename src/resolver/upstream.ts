import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { decodeMessage, encodeMessage, type Message, type Name } from '../wire/index.js';
import { UpstreamError, type QueryOptions, type ServerAddress, type Upstream } from './types.js';

/** How a response's question compares with the query's. */
export type QuestionMatch = 'exact' | 'case' | 'none';

/**
 * Compares the question sections. 'case' means equal but for letter case: with 0x20
 * randomisation that is a mismatch (a spoofer guessing the name), or a server that does not
 * preserve case; the caller decides.
 */
export function matchQuestion(sent: Message, got: Message): QuestionMatch {
  const a = sent.question[0];
  const b = got.question[0];
  if (!a || !b || got.question.length !== 1) return 'none';
  if (a.type !== b.type || a.class !== b.class || !a.name.equals(b.name)) return 'none';
  const la = a.name.labels;
  const lb = b.name.labels;
  for (let i = 0; i < la.length; i++) if (la[i] !== lb[i]) return 'case';
  return 'exact';
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(address: string): boolean {
  if (address === '::1' || address === '0:0:0:0:0:0:0:1') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * One upstream exchange as it happened on the wire, for logs (dnstap RESOLVER_QUERY and
 * RESOLVER_RESPONSE): the bytes sent and the bytes accepted as the answer.
 */
export interface UpstreamExchange {
  readonly server: ServerAddress;
  /** Our socket's address and port (the unspecified address for an unconnected UDP socket). */
  readonly local: ServerAddress | undefined;
  readonly protocol: 'udp' | 'tcp';
  readonly zone: Name | undefined;
  /** The query exactly as sent (the ID and 0x20 case included). */
  readonly query: Uint8Array;
  /** The answer accepted (undefined on timeout or error). */
  readonly response: Uint8Array | undefined;
  /** When the query was sent: process.hrtime.bigint() and epoch milliseconds. */
  readonly sentAt: bigint;
  readonly sentAtMs: number;
  /** When the answer arrived (epoch milliseconds), or the exchange was given up. */
  readonly doneAtMs: number;
  /** The failure, when there is no answer ('timeout', 'network', ...). */
  readonly error?: string;
}

export interface NetUpstreamOptions {
  /** Refuse every non-loopback destination (tests). Default: env PORTCULLIS_TEST_LOOPBACK_ONLY=1. */
  loopbackOnly?: boolean;
  /** Counts packets dropped because they did not match (for metrics). */
  onMismatch?: (server: ServerAddress, why: string) => void;
  /**
   * Called once per query sent, when it is answered or given up (dnstap). Must not throw; it is
   * not called at all when absent, so the query path pays nothing for it.
   */
  onExchange?: (x: UpstreamExchange) => void;
}

/** Calls the hook, which must never break a resolution. */
function report(hook: (x: UpstreamExchange) => void, x: UpstreamExchange): void {
  try {
    hook(x);
  } catch {
    // a logging failure is not a DNS failure
  }
}

/**
 * The real transport for upstream queries. Anti-spoofing (RFC 5452): every query gets a new
 * random ID and a new socket bound to a random source port; a UDP answer is accepted only
 * from the queried address and port, with the same ID and the same question (exact case, so
 * 0x20 randomisation counts). Packets that fail the check are dropped and the wait goes on.
 */
export class NetUpstream implements Upstream {
  private readonly loopbackOnly: boolean;

  constructor(private readonly opts: NetUpstreamOptions = {}) {
    this.loopbackOnly = opts.loopbackOnly ?? process.env.PORTCULLIS_TEST_LOOPBACK_ONLY === '1';
  }

  query(server: ServerAddress, msg: Message, opts: QueryOptions): Promise<Message> {
    if (this.loopbackOnly && !isLoopback(server.address)) {
      return Promise.reject(new UpstreamError('forbidden', `refusing non-loopback upstream ${server.address} (PORTCULLIS_TEST_LOOPBACK_ONLY)`));
    }
    const query: Message = { ...msg, id: randomInt(0, 65536) };
    return opts.tcp ? this.tcp(server, query, opts.timeout, opts.zone) : this.udp(server, query, opts.timeout, opts.zone);
  }

  private udp(server: ServerAddress, query: Message, timeout: number, zone?: Name): Promise<Message> {
    const family = net.isIPv6(server.address) ? 'udp6' : 'udp4';
    const wire = encodeMessage(query);
    const hook = this.opts.onExchange;
    let sentAt = 0n;
    let sentAtMs = 0;
    let local: ServerAddress | undefined;
    return new Promise<Message>((resolve, reject) => {
      const sock = dgram.createSocket({ type: family });
      let caseMismatch = false;
      let done = false;
      const finish = (err: Error | undefined, m?: Message, raw?: Uint8Array) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.close();
        if (hook && sentAtMs !== 0) {
          report(hook, {
            server, local, protocol: 'udp', zone, query: wire, response: raw, sentAt, sentAtMs, doneAtMs: Date.now(),
            ...(err ? { error: (err as { kind?: string }).kind ?? 'network' } : {}),
          });
        }
        if (err) reject(err);
        else resolve(m!);
      };
      const timer = setTimeout(() => {
        finish(caseMismatch
          ? new UpstreamError('case-mismatch', `answer from ${server.address} changed the question's case`)
          : new UpstreamError('timeout', `no answer from ${server.address}:${server.port} in ${timeout} ms`));
      }, timeout);
      sock.on('error', (e) => finish(new UpstreamError('network', `${server.address}:${server.port}: ${e.message}`)));
      sock.on('message', (buf, rinfo) => {
        if (rinfo.address !== server.address || rinfo.port !== server.port) {
          this.opts.onMismatch?.(server, 'address');
          return;
        }
        let m: Message;
        try {
          m = decodeMessage(buf);
        } catch {
          // A broken packet could be a spoofing attempt as well as a broken server: keep waiting.
          this.opts.onMismatch?.(server, 'malformed');
          return;
        }
        if (m.id !== query.id || !m.qr) {
          this.opts.onMismatch?.(server, 'id');
          return;
        }
        const q = matchQuestion(query, m);
        if (q !== 'exact') {
          if (q === 'case') caseMismatch = true;
          this.opts.onMismatch?.(server, 'question');
          return;
        }
        finish(undefined, m, hook ? new Uint8Array(buf.buffer, buf.byteOffset, buf.length) : undefined);
      });
      // Port 0: the kernel picks a random ephemeral port for every new socket (Linux randomises it).
      sock.bind(0, () => {
        if (hook) {
          try {
            const a = sock.address();
            local = { address: a.address, port: a.port };
          } catch {
            local = undefined;
          }
          sentAt = process.hrtime.bigint();
          sentAtMs = Date.now();
        }
        sock.send(wire, server.port, server.address, (e) => {
          if (e) finish(new UpstreamError('network', `${server.address}:${server.port}: ${e.message}`));
        });
      });
    });
  }

  private tcp(server: ServerAddress, query: Message, timeout: number, zone?: Name): Promise<Message> {
    const wire = encodeMessage(query);
    const hook = this.opts.onExchange;
    let sentAt = 0n;
    let sentAtMs = 0;
    let local: ServerAddress | undefined;
    return new Promise<Message>((resolve, reject) => {
      const sock = net.connect({ host: server.address, port: server.port });
      let buf = Buffer.alloc(0);
      let done = false;
      const finish = (err: Error | undefined, m?: Message, raw?: Uint8Array) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.destroy();
        if (hook && sentAtMs !== 0) {
          report(hook, {
            server, local, protocol: 'tcp', zone, query: wire, response: raw, sentAt, sentAtMs, doneAtMs: Date.now(),
            ...(err ? { error: (err as { kind?: string }).kind ?? 'network' } : {}),
          });
        }
        if (err) reject(err);
        else resolve(m!);
      };
      const timer = setTimeout(() => finish(new UpstreamError('timeout', `no TCP answer from ${server.address}:${server.port} in ${timeout} ms`)), timeout);
      sock.on('error', (e) => finish(new UpstreamError('network', `${server.address}:${server.port}: ${e.message}`)));
      sock.on('connect', () => {
        if (hook) {
          local = sock.localAddress !== undefined && sock.localPort !== undefined ? { address: sock.localAddress, port: sock.localPort } : undefined;
          sentAt = process.hrtime.bigint();
          sentAtMs = Date.now();
        }
        const len = Buffer.alloc(2);
        len.writeUInt16BE(wire.length);
        sock.write(Buffer.concat([len, wire]));
      });
      sock.on('data', (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length < 2) return;
        const n = buf.readUInt16BE(0);
        if (buf.length < 2 + n) return;
        let m: Message;
        try {
          m = decodeMessage(buf.subarray(2, 2 + n));
        } catch (e) {
          finish(new UpstreamError('malformed', `bad TCP answer from ${server.address}: ${(e as Error).message}`));
          return;
        }
        const q = matchQuestion(query, m);
        if (m.id !== query.id || !m.qr || q === 'none') finish(new UpstreamError('malformed', `TCP answer from ${server.address} does not match the query`));
        else if (q === 'case') finish(new UpstreamError('case-mismatch', `TCP answer from ${server.address} changed the question's case`));
        else finish(undefined, m, hook ? new Uint8Array(buf.subarray(2, 2 + n)) : undefined);
      });
      sock.on('end', () => finish(new UpstreamError('network', `${server.address} closed the TCP connection early`)));
    });
  }
}
