// DNS over TCP (RFC 1035 §4.2.2, RFC 7766): 2-byte length framing, pipelined queries answered
// as they complete (possibly out of order), idle and slow-message timeouts, connection caps
// (total and per client address), and backpressure in both directions.
import { createServer, type Server, type Socket } from 'node:net';
import type { Endpoint, Handler } from './handler.js';
import type { ListenAddress } from './address.js';
import { buildRequest, newStats, replyBytes, type ListenerStats } from './request.js';

export interface TcpOptions {
  /** Close a connection that has nothing in flight after this long without traffic. */
  idleTimeoutMs?: number;
  /** Close a connection that takes longer than this to deliver one whole message (slowloris). */
  messageTimeoutMs?: number;
  maxConnections?: number;
  maxConnectionsPerClient?: number;
  /** Queries in flight per connection; reading pauses above it. */
  maxPipelined?: number;
  onError?: (err: unknown, where: string) => void;
}

export interface TcpStats extends ListenerStats {
  accepted: number;
  /** Connections closed at once because a cap was reached. */
  rejected: number;
  idleClosed: number;
  slowClosed: number;
}

export class TcpListener {
  readonly stats: TcpStats = { ...newStats(), accepted: 0, rejected: 0, idleClosed: 0, slowClosed: 0 };
  /** Open connections. */
  readonly connections = new Set<TcpConnection>();
  private readonly perClient = new Map<string, number>();
  private server: Server | undefined;
  private local!: Endpoint;
  closing = false;
  readonly idleTimeoutMs: number;
  readonly messageTimeoutMs: number;
  readonly maxPipelined: number;
  private readonly maxConnections: number;
  private readonly maxPerClient: number;

  constructor(
    readonly address: ListenAddress,
    readonly handler: Handler,
    readonly opts: TcpOptions = {},
  ) {
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 10_000;
    this.messageTimeoutMs = opts.messageTimeoutMs ?? 5_000;
    this.maxPipelined = opts.maxPipelined ?? 100;
    this.maxConnections = opts.maxConnections ?? 1000;
    this.maxPerClient = opts.maxConnectionsPerClient ?? 20;
  }

  start(): Promise<void> {
    const a = this.address;
    const server = createServer({ noDelay: true, allowHalfOpen: false });
    this.server = server;
    return new Promise((resolve, reject) => {
      const onBindError = (err: Error) => reject(err);
      server.once('error', onBindError);
      server.listen({ host: a.host, port: a.port, ipv6Only: a.family === 6, exclusive: false, backlog: 511 }, () => {
        server.off('error', onBindError);
        server.on('error', (err) => this.opts.onError?.(err, `tcp ${a.text}`));
        const la = server.address();
        this.local = { address: a.host, port: typeof la === 'object' && la ? la.port : a.port, family: a.family };
        server.on('connection', this.onConnection);
        resolve();
      });
    });
  }

  get port(): number {
    return this.local.port;
  }

  get localEndpoint(): Endpoint {
    return this.local;
  }

  private readonly onConnection = (socket: Socket): void => {
    const addr = socket.remoteAddress;
    if (this.closing || !addr) {
      socket.destroy();
      return;
    }
    const n = this.perClient.get(addr) ?? 0;
    if (this.connections.size >= this.maxConnections || n >= this.maxPerClient) {
      this.stats.rejected++;
      socket.destroy();
      return;
    }
    this.stats.accepted++;
    this.perClient.set(addr, n + 1);
    this.connections.add(new TcpConnection(this, socket, { address: addr, port: socket.remotePort ?? 0, family: socket.remoteFamily === 'IPv6' ? 6 : 4 }));
  };

  /** Called by a connection when its socket is gone. */
  forget(conn: TcpConnection): void {
    if (!this.connections.delete(conn)) return;
    const addr = conn.client.address;
    const n = (this.perClient.get(addr) ?? 1) - 1;
    if (n <= 0) this.perClient.delete(addr);
    else this.perClient.set(addr, n);
  }

  /**
   * Stops accepting; open connections stop reading, finish what is in flight and close.
   * After `graceMs` the rest are destroyed.
   */
  async close(graceMs = 5000): Promise<void> {
    const server = this.server;
    if (!server || this.closing) return;
    this.closing = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const c of this.connections) c.shutdown();
    const deadline = setTimeout(() => {
      for (const c of this.connections) c.destroy();
    }, graceMs);
    await closed;
    clearTimeout(deadline);
    this.server = undefined;
  }
}

/** One client connection. Per-connection handlers are bound once; per query there is one async call. */
export class TcpConnection {
  private pending: Buffer | undefined;
  private inflight = 0;
  private writeBlocked = false;
  private readPaused = false;
  private closing = false;
  private slowTimer: NodeJS.Timeout | undefined;
  private slowArmed = false;

  constructor(
    private readonly listener: TcpListener,
    private readonly socket: Socket,
    readonly client: Endpoint,
  ) {
    socket.setTimeout(listener.idleTimeoutMs);
    socket.on('data', this.onData);
    socket.on('timeout', this.onIdle);
    socket.on('drain', this.onDrain);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onClose);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.pending = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.parse();
  };

  /** Dispatches every complete frame while under the pipelining cap. */
  private parse(): void {
    const data = this.pending;
    if (!data) return;
    let off = 0;
    let took = false;
    const max = this.listener.maxPipelined;
    while (data.length - off >= 2 && this.inflight < max && !this.closing) {
      const len = data.readUInt16BE(off);
      if (data.length - off - 2 < len) break;
      const frame = data.subarray(off + 2, off + 2 + len);
      off += 2 + len;
      took = true;
      this.listener.stats.received++;
      void this.serve(frame);
    }
    // Copy the remainder so a small partial frame does not pin a large chunk.
    this.pending = off === 0 ? data : off < data.length ? Buffer.from(data.subarray(off)) : undefined;
    if (this.inflight >= max) this.pauseReading();
    this.watchSlowMessage(took);
  }

  /** Arms the slow-message timer while an incomplete frame waits; restarts it for each new frame. */
  private watchSlowMessage(tookFrame: boolean): void {
    const p = this.pending;
    const incomplete = p !== undefined && (p.length < 2 || p.length - 2 < p.readUInt16BE(0));
    if (!incomplete || this.readPaused) {
      if (this.slowArmed) {
        clearTimeout(this.slowTimer);
        this.slowArmed = false;
      }
      return;
    }
    if (this.slowArmed && !tookFrame) return;
    if (this.slowTimer) this.slowTimer.refresh();
    else this.slowTimer = setTimeout(this.onSlow, this.listener.messageTimeoutMs);
    this.slowArmed = true;
  }

  private readonly onSlow = (): void => {
    if (!this.slowArmed) return;
    this.listener.stats.slowClosed++;
    this.socket.destroy();
  };

  private async serve(frame: Buffer): Promise<void> {
    const req = buildRequest(frame, this.client, this.listener.localEndpoint, 'tcp', this.listener.address.text);
    if (!req) {
      this.listener.stats.dropped++;
      return;
    }
    this.inflight++;
    try {
      const reply = await this.listener.handler(req);
      if (reply.stream && !reply.drop) {
        await this.writeStream(reply.stream);
        this.listener.stats.answered++;
        return;
      }
      const wire = replyBytes(reply);
      if (wire && !this.socket.destroyed) {
        this.write(wire);
        this.listener.stats.answered++;
      } else this.listener.stats.dropped++;
    } catch (err) {
      this.listener.stats.errors++;
      this.listener.opts.onError?.(err, `tcp ${this.listener.address.text}`);
    } finally {
      this.inflight--;
      if (this.closing) {
        if (this.inflight === 0) this.socket.end();
      } else this.maybeResume();
    }
  }

  /**
   * Writes a multi-message reply in order. Each message waits until the socket has drained
   * when the client reads slower than we produce, so a large transfer holds at most one
   * message (plus the socket buffer) in memory. Other queries on the connection may be
   * answered between two messages of the stream (RFC 7766 §7 allows interleaving only of
   * whole messages, which is what happens here).
   */
  private async writeStream(stream: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
    try {
      for await (const wire of stream) {
        if (this.socket.destroyed) return;
        this.write(wire);
        if (this.writeBlocked) await this.drained();
      }
    } catch (err) {
      // A transfer that fails half-way must not look complete: the client sees the reset.
      this.socket.destroy();
      throw err;
    }
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  private write(wire: Uint8Array): void {
    const out = Buffer.allocUnsafe(wire.length + 2);
    out.writeUInt16BE(wire.length, 0);
    out.set(wire, 2);
    if (!this.socket.write(out)) {
      // The client reads slower than we answer: stop taking queries until it catches up.
      this.writeBlocked = true;
      this.pauseReading();
    }
  }

  private pauseReading(): void {
    if (!this.readPaused) {
      this.readPaused = true;
      this.socket.pause();
    }
  }

  private maybeResume(): void {
    if (!this.readPaused || this.writeBlocked || this.closing || this.inflight >= this.listener.maxPipelined) return;
    this.readPaused = false;
    this.socket.resume();
    this.parse();
  }

  private readonly onDrain = (): void => {
    this.writeBlocked = false;
    this.maybeResume();
  };

  /** RFC 7766 §6.2.3: the idle timer only closes a connection with nothing in flight. */
  private readonly onIdle = (): void => {
    if (this.inflight > 0) return;
    this.listener.stats.idleClosed++;
    this.socket.destroy();
  };

  private readonly onSocketError = (): void => {
    // Resets by the client are normal; 'close' follows and cleans up.
  };

  private readonly onClose = (): void => {
    if (this.slowTimer) clearTimeout(this.slowTimer);
    this.slowArmed = false;
    this.pending = undefined;
    this.listener.forget(this);
  };

  /** Graceful close for shutdown: stop reading, finish queries in flight, then FIN. */
  shutdown(): void {
    this.closing = true;
    this.socket.pause();
    if (this.inflight === 0) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
