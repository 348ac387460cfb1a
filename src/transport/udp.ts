// DNS over UDP (RFC 1035 §4.2.1): one socket per listen address.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import type { Endpoint, Handler } from './handler.js';
import type { ListenAddress } from './address.js';
import { buildRequest, newStats, replyBytes, type ListenerStats } from './request.js';

export interface UdpOptions {
  /** Queries being answered at once; more are dropped (the client retries). Default 10000. */
  maxInflight?: number;
  onError?: (err: unknown, where: string) => void;
  /**
   * Socket receive/send buffer sizes in bytes (the kernel caps them at net.core.rmem_max /
   * wmem_max). Default 4 MiB: a few hundred queries fit in the kernel's default buffer, so a
   * pause of a few milliseconds (GC, a busy CPU) under load would drop queries.
   */
  bufferSize?: number;
}

export const DEFAULT_BUFFER_SIZE = 4 * 1024 * 1024;

export class UdpListener {
  readonly stats: ListenerStats = newStats();
  private socket: Socket | undefined;
  private local!: Endpoint;
  private inflight = 0;
  private closing = false;
  private drained: (() => void) | undefined;
  private readonly maxInflight: number;

  constructor(
    readonly address: ListenAddress,
    private readonly handler: Handler,
    private readonly opts: UdpOptions = {},
  ) {
    this.maxInflight = opts.maxInflight ?? 10000;
  }

  /** Binds; rejects with the bind error (EACCES, EADDRINUSE, ...). */
  start(): Promise<void> {
    const a = this.address;
    const socket = createSocket({ type: a.family === 6 ? 'udp6' : 'udp4', ipv6Only: a.family === 6, reuseAddr: false, lookup: literalLookup });
    this.socket = socket;
    return new Promise((resolve, reject) => {
      const onBindError = (err: Error) => reject(err);
      socket.once('error', onBindError);
      socket.bind({ address: a.host, port: a.port, exclusive: false }, () => {
        socket.off('error', onBindError);
        socket.on('error', (err) => this.opts.onError?.(err, `udp ${a.text}`));
        const bufferSize = this.opts.bufferSize ?? DEFAULT_BUFFER_SIZE;
        if (bufferSize) {
          try {
            socket.setRecvBufferSize(bufferSize);
            socket.setSendBufferSize(bufferSize);
          } catch {
            /* the kernel limit wins; not fatal */
          }
        }
        const la = socket.address();
        this.local = { address: la.address, port: la.port, family: a.family };
        socket.on('message', this.onMessage);
        resolve();
      });
    });
  }

  /** The bound port (useful when listening on port 0). */
  get port(): number {
    return this.local.port;
  }

  private readonly onMessage = (buf: Buffer, rinfo: RemoteInfo): void => {
    this.stats.received++;
    if (this.closing || this.inflight >= this.maxInflight) {
      this.stats.dropped++;
      return;
    }
    void this.serve(buf, rinfo);
  };

  private async serve(buf: Buffer, rinfo: RemoteInfo): Promise<void> {
    const client: Endpoint = { address: rinfo.address, port: rinfo.port, family: rinfo.family === 'IPv6' ? 6 : 4 };
    const req = buildRequest(buf, client, this.local, 'udp', this.address.text);
    if (!req) {
      this.stats.dropped++;
      return;
    }
    this.inflight++;
    try {
      const wire = replyBytes(await this.handler(req));
      if (wire && this.socket) {
        // No callback: on the usual path the datagram leaves inside send(), and a callback
        // would cost a tick per reply. A failed send is reported through the socket's 'error'
        // event; close() waits for the send queue to empty.
        this.socket.send(wire, rinfo.port, rinfo.address);
        this.stats.answered++;
      } else this.stats.dropped++;
    } catch (err) {
      this.stats.errors++;
      this.opts.onError?.(err, `udp ${this.address.text}`);
    } finally {
      if (--this.inflight === 0 && this.drained) this.drained();
    }
  }

  /** Stops reading, lets queries in flight finish (at most `graceMs`), closes the socket. */
  async close(graceMs = 5000): Promise<void> {
    const socket = this.socket;
    if (!socket || this.closing) return;
    this.closing = true;
    if (this.inflight > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, graceMs);
        this.drained = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    // Replies still queued in the kernel-bound send queue go out before the socket closes.
    const deadline = Date.now() + graceMs;
    while (socket.getSendQueueCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    this.socket = undefined;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

/**
 * dgram passes every send() destination through a lookup; ours are the literal addresses
 * queries came from, so they are handed back at once instead of through dns.lookup (which
 * defers even a literal to the next tick). Names (only a listen address could be one) still
 * go to dns.lookup.
 */
function literalLookup(address: string, family: unknown, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const f = isIP(address);
  if (f !== 0) callback(null, address, f);
  else dnsLookup(address, family as 4 | 6, callback);
}
