// DNS over UDP (RFC 1035 §4.2.1): one socket per listen address.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Endpoint, Handler } from './handler.js';
import type { ListenAddress } from './address.js';
import { buildRequest, newStats, replyBytes, type ListenerStats } from './request.js';

export interface UdpOptions {
  /** Queries being answered at once; more are dropped (the client retries). Default 10000. */
  maxInflight?: number;
  onError?: (err: unknown, where: string) => void;
  /** Socket receive/send buffer sizes in bytes (the kernel may cap them). */
  bufferSize?: number;
}

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
    const socket = createSocket({ type: a.family === 6 ? 'udp6' : 'udp4', ipv6Only: a.family === 6, reuseAddr: false });
    this.socket = socket;
    return new Promise((resolve, reject) => {
      const onBindError = (err: Error) => reject(err);
      socket.once('error', onBindError);
      socket.bind({ address: a.host, port: a.port, exclusive: false }, () => {
        socket.off('error', onBindError);
        socket.on('error', (err) => this.opts.onError?.(err, `udp ${a.text}`));
        if (this.opts.bufferSize) {
          try {
            socket.setRecvBufferSize(this.opts.bufferSize);
            socket.setSendBufferSize(this.opts.bufferSize);
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
    let sending = false;
    try {
      const wire = replyBytes(await this.handler(req));
      if (wire && this.socket) {
        // Still in flight until the send completes: close() must not cut it off.
        this.socket.send(wire, rinfo.port, rinfo.address, this.onSent);
        sending = true;
        this.stats.answered++;
      } else this.stats.dropped++;
    } catch (err) {
      this.stats.errors++;
      this.opts.onError?.(err, `udp ${this.address.text}`);
    } finally {
      if (!sending) this.done();
    }
  }

  private done(): void {
    if (--this.inflight === 0 && this.drained) this.drained();
  }

  private readonly onSent = (err: Error | null): void => {
    this.done();
    if (err) {
      this.stats.errors++;
      this.opts.onError?.(err, `udp send ${this.address.text}`);
    }
  };

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
    this.socket = undefined;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
