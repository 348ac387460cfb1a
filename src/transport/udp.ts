// DNS over UDP (RFC 1035 §4.2.1): one socket per listen address.
//
// Two ways to do the socket I/O, the same behaviour: the batched addon (recvmmsg/sendmmsg,
// native/udp-batch) when it is built, node:dgram otherwise. Every datagram first goes to the
// synchronous fast path (fast.ts) when the server gives one; what it does not answer goes
// through the asynchronous pipeline (`handler`).
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Endpoint, Handler } from './handler.js';
import type { ListenAddress } from './address.js';
import { buildRequest, newStats, replyBytes, type ListenerStats } from './request.js';
import { addressText, FastQuery, parseFastQuery, ViewCache, type FastHandler } from './fast.js';
import { loadNativeUdp, type NativeHandle, type NativeUdp } from './udp-native.js';

export interface UdpOptions {
  /** Queries being answered at once on the slow path; more are dropped (the client retries). Default 10000. */
  maxInflight?: number;
  onError?: (err: unknown, where: string) => void;
  /**
   * Socket receive/send buffer sizes in bytes (the kernel caps them at net.core.rmem_max /
   * wmem_max). Default 4 MiB: a few hundred queries fit in the kernel's default buffer, so a
   * pause of a few milliseconds (GC, a busy CPU) under load would drop queries.
   */
  bufferSize?: number;
  /** The synchronous fast path for plain queries (see fast.ts); called for every datagram. */
  fast?: FastHandler;
  /** Use the batched addon when it loads (default true). */
  batched?: boolean;
  /**
   * A UDP socket already bound to `address`, inherited as this descriptor (the primary of
   * `workers` opens one per address and hands it to every worker). Needs the addon.
   */
  fd?: number;
}

export const DEFAULT_BUFFER_SIZE = 4 * 1024 * 1024;

export class UdpListener {
  readonly stats: ListenerStats = newStats();
  /** 'batched' (recvmmsg/sendmmsg addon) or 'dgram', once started. */
  backend: 'batched' | 'dgram' = 'dgram';
  /** Queries answered by the fast path (the rest of `answered` went through the pipeline). */
  fastAnswered = 0;
  /** Replies of the pipeline that went out with their own batch (see `serve`). */
  slowInBatch = 0;
  /** Index in `meta` of the addon's count of flushed batches; -1 without it. */
  private flushAt = -1;
  private socket: Socket | undefined;
  private native: NativeUdp | undefined;
  private handle: NativeHandle | undefined;
  private recv = EMPTY;
  private send = EMPTY;
  private meta = EMPTY_META;
  private addr: Uint8Array = EMPTY;
  private slot = 0;
  private metaWidth = 4;
  private local!: Endpoint;
  private inflight = 0;
  private closing = false;
  private drained: (() => void) | undefined;
  private readonly maxInflight: number;
  private readonly fastQuery = new FastQuery();
  /** The fast path's own scratch space (dgram, and answers built elsewhere). */
  private readonly scratch = this.fastQuery.out;
  /** One view per send slot of the batched backend, made once, and views of its first n bytes. */
  private sendSlots: Uint8Array[] = [];
  private sendViews: (Uint8Array | undefined)[][] = [];
  /** Per receive slot, views of its first n bytes: a datagram is read through one of them. */
  private recvViews: ViewCache[] = [];
  /** The views of `scratch` (dgram). */
  private readonly scratchViews: (Uint8Array | undefined)[] = [];

  constructor(
    readonly address: ListenAddress,
    private readonly handler: Handler,
    private readonly opts: UdpOptions = {},
  ) {
    this.maxInflight = opts.maxInflight ?? 10000;
  }

  /** Binds; rejects with the bind error (EACCES, EADDRINUSE, ...). */
  start(): Promise<void> {
    const native = this.opts.batched === false ? undefined : loadNativeUdp();
    if (this.opts.fd !== undefined) {
      if (!native) return Promise.reject(new Error(`udp ${this.address.text}: an inherited socket needs the batched addon`));
      return this.startNative(native, this.opts.fd);
    }
    if (native && isIP(this.address.host) !== 0) return this.startNative(native);
    return this.startDgram();
  }

  private startNative(native: NativeUdp, fd?: number): Promise<void> {
    const a = this.address;
    try {
      const h = fd !== undefined ? native.adopt(fd, a.family) : native.open(a.family, a.host, a.port, this.opts.bufferSize ?? DEFAULT_BUFFER_SIZE, false);
      this.native = native;
      this.handle = h;
      this.slot = native.SLOT;
      this.metaWidth = native.META;
      this.recv = Buffer.allocUnsafeSlow(native.BATCH * native.SLOT);
      this.send = Buffer.allocUnsafeSlow(native.BATCH * native.SLOT);
      const counted = native.FLUSH_COUNT === 1;
      this.meta = new Int32Array(native.BATCH * native.META + (counted ? 1 : 0));
      this.flushAt = counted ? native.BATCH * native.META : -1;
      this.addr = new Uint8Array(native.BATCH * 16);
      for (let i = 0; i < native.BATCH; i++) {
        this.sendSlots.push(this.send.subarray(i * native.SLOT, (i + 1) * native.SLOT));
        this.sendViews.push([]);
        this.recvViews.push(new ViewCache(this.recv.subarray(i * native.SLOT, (i + 1) * native.SLOT)));
      }
      this.local = { address: a.host, port: native.localPort(h), family: a.family };
      this.fastQuery.local = this.local;
      this.fastQuery.listener = a.text;
      this.backend = 'batched';
      native.start(h, this.recv, this.send, this.meta, this.addr, this.onBatch, this);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private startDgram(): Promise<void> {
    const a = this.address;
    const socket = createSocket({ type: a.family === 6 ? 'udp6' : 'udp4', ipv6Only: a.family === 6, reuseAddr: false, lookup: literalLookup });
    this.socket = socket;
    this.backend = 'dgram';
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
        this.fastQuery.local = this.local;
        this.fastQuery.listener = a.text;
        socket.on('message', this.onMessage);
        resolve();
      });
    });
  }

  /** The bound port (useful when listening on port 0). */
  get port(): number {
    return this.local.port;
  }

  /** The addon's counters (batched backend only): [received, sent, sendErrors, batches, truncated]. */
  nativeStats(): number[] | undefined {
    return this.native && this.handle ? this.native.stats(this.handle) : undefined;
  }

  /**
   * One batch read by the addon: every datagram is offered to the fast path, whose replies are
   * left in the send slots (the addon sends them all with one sendmmsg when this returns); the
   * rest are copied out and go through the pipeline.
   */
  private onBatch(count: number): void {
    const meta = this.meta;
    const w = this.metaWidth;
    const slot = this.slot;
    const now = performance.now();
    this.fastQuery.time = Date.now();
    for (let i = 0; i < count; i++) {
      const m = i * w;
      const len = meta[m]!;
      this.stats.received++;
      if (len < 0 || this.closing) {
        // Larger than a slot (64 KiB cannot be a DNS query over UDP), or closing.
        this.stats.dropped++;
        continue;
      }
      const family = meta[m + 2] === 6 ? 6 : 4;
      const client = addressText(this.addr, i * 16, family);
      const port = meta[m + 1]!;
      const raw = this.recvViews[i]!.get(len);
      // The fast path builds its answer straight into this datagram's send slot.
      const target = this.sendSlots[i]!;
      this.fastQuery.useOut(target, this.sendViews[i]!);
      const out = this.fast(raw, client, port, family, now);
      if (out === undefined) {
        // The pipeline keeps the bytes past this batch: a copy.
        this.slowPath(Buffer.from(raw), client, port, family, i, this.flushAt >= 0 ? meta[this.flushAt]! : 0);
      } else if (out !== null) {
        if (out.buffer === target.buffer && out.byteOffset === target.byteOffset) meta[m + 3] = out.length;
        else if (out.length <= slot) {
          target.set(out);
          meta[m + 3] = out.length;
        } else this.native!.sendTo(this.handle!, out, client, port);
        this.stats.answered++;
      } else this.stats.dropped++;
    }
  }

  private readonly onMessage = (buf: Buffer, rinfo: RemoteInfo): void => {
    this.stats.received++;
    if (this.closing) {
      this.stats.dropped++;
      return;
    }
    const family = rinfo.family === 'IPv6' ? 6 : 4;
    this.fastQuery.time = Date.now();
    this.fastQuery.useOut(this.scratch, this.scratchViews);
    const out = this.fast(buf, rinfo.address, rinfo.port, family, performance.now());
    if (out === undefined) this.slowPath(buf, rinfo.address, rinfo.port, family);
    else if (out !== null) {
      // A copy: the reply may live in the fast path's scratch space, which the next query
      // reuses while dgram may still hold this one.
      this.socket!.send(Buffer.from(out), rinfo.port, rinfo.address);
      this.stats.answered++;
    } else this.stats.dropped++;
  };

  /** The fast path's answer: bytes, null (drop), or undefined (not taken). Never throws. */
  private fast(raw: Uint8Array, client: string, port: number, family: 4 | 6, now: number): Uint8Array | null | undefined {
    const fast = this.opts.fast;
    if (fast === undefined) return undefined;
    const q = this.fastQuery;
    if (!parseFastQuery(raw, q)) return undefined;
    q.reset();
    q.client = client;
    q.clientPort = port;
    q.family = family;
    q.receivedAt = now;
    try {
      const out = fast(q);
      if (out !== undefined) this.fastAnswered++;
      return out;
    } catch (err) {
      // A bug on the fast path must not lose the query: the pipeline answers it (and reports).
      this.opts.onError?.(err, `udp fast path ${this.address.text}`);
      return undefined;
    }
  }

  /**
   * The pipeline for one datagram. `slot` is its place in the batch being read (-1 outside a
   * batch) and `flushes` the addon's count of flushed batches when that batch was handed over.
   */
  private slowPath(raw: Uint8Array, address: string, port: number, family: 4 | 6, slot = -1, flushes = 0): void {
    if (this.inflight >= this.maxInflight) {
      this.stats.dropped++;
      return;
    }
    void this.serve(raw, { address, port, family }, slot, flushes);
  }

  private async serve(buf: Uint8Array, client: Endpoint, slot = -1, flushes = 0): Promise<void> {
    const req = buildRequest(buf, client, this.local, 'udp', this.address.text);
    if (!req) {
      this.stats.dropped++;
      return;
    }
    this.inflight++;
    try {
      const wire = replyBytes(await this.handler(req));
      if (wire && slot >= 0 && this.flushAt >= 0 && this.meta[this.flushAt] === flushes && wire.length <= this.slot) {
        // Finished while the addon is still running its batch's promise jobs (an answer that
        // waited on nothing outside the process): it goes out with the batch's sendmmsg
        // instead of a sendto of its own. Its slot was left empty by the fast path.
        this.sendSlots[slot]!.set(wire);
        this.meta[slot * this.metaWidth + 3] = wire.length;
        this.slowInBatch++;
        this.stats.answered++;
      } else if (wire && this.sendNow(wire, client)) this.stats.answered++;
      else this.stats.dropped++;
    } catch (err) {
      this.stats.errors++;
      this.opts.onError?.(err, `udp ${this.address.text}`);
    } finally {
      if (--this.inflight === 0 && this.drained) this.drained();
    }
  }

  /** Sends one reply outside a batch. False when the socket is gone. */
  private sendNow(wire: Uint8Array, client: Endpoint): boolean {
    if (this.handle !== undefined) {
      const err = this.native!.sendTo(this.handle, wire, client.address, client.port);
      if (err !== 0) this.opts.onError?.(new Error(`sendto ${client.address}: errno ${err}`), `udp ${this.address.text}`);
      return err === 0;
    }
    if (!this.socket) return false;
    // No callback: on the usual path the datagram leaves inside send(), and a callback would
    // cost a tick per reply. A failed send is reported through the socket's 'error' event;
    // close() waits for the send queue to empty.
    this.socket.send(wire, client.port, client.address);
    return true;
  }

  /** Stops reading, lets queries in flight finish (at most `graceMs`), closes the socket. */
  async close(graceMs = 5000): Promise<void> {
    if (this.closing || (!this.socket && this.handle === undefined)) return;
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
    if (this.handle !== undefined) {
      // Replies are sent synchronously by the addon: nothing is queued in user space.
      this.native!.close(this.handle);
      this.handle = undefined;
      this.recv = this.send = this.addr = EMPTY;
      this.meta = EMPTY_META;
      this.sendSlots = [];
      this.sendViews = [];
      this.recvViews = [];
      this.fastQuery.useOut(this.scratch, this.scratchViews);
      return;
    }
    const socket = this.socket!;
    // Replies still queued in the kernel-bound send queue go out before the socket closes.
    const deadline = Date.now() + graceMs;
    while (socket.getSendQueueCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    this.socket = undefined;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

const EMPTY = Buffer.alloc(0);
const EMPTY_META = new Int32Array(0);

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
