// dnstap output: DNS messages as dnstap protobuf (dnstap-protobuf.ts) in Frame Streams
// (dnstap-fstrm.ts), to a Unix socket, a TCP reader or a file. See README.md, "dnstap".
import { createWriteStream } from 'node:fs';
import net from 'node:net';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import type { Writable } from 'node:stream';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { Name, WireWriter } from '../wire/index.js';
import { promClient } from './prom.js';
import { ControlType, DNSTAP_CONTENT_TYPE, FrameDecoder, FstrmError, controlFrame, controlTypeName } from './dnstap-fstrm.js';
import {
  MessageType, SocketProtocol, addressBytes, encodeDnstapFrame, toTimestamp,
  type DnstapHeader, type DnstapMessage,
} from './dnstap-protobuf.js';

// ---------------------------------------------------------------------------------------------
// Config

/** "host:port" or "[v6]:port" with a literal address. */
const hostPort = z.string().refine((s) => parseHostPort(s) !== undefined, { message: 'expected ADDRESS:PORT, e.g. 127.0.0.1:6000 or [::1]:6000' });

/**
 * The `dnstap:` config section (the server's schema embeds it):
 *
 * ```yaml
 * dnstap:
 *   socket: /run/dnstap.sock     # or tcp: 127.0.0.1:6000, or file: dnstap.fstrm (exactly one)
 *   identity: ns1                # absent: not sent
 *   version: portcullis          # absent: "portcullis"
 *   client-queries: true
 *   client-responses: true
 *   resolver-queries: false
 *   resolver-responses: false
 *   auth-queries: false
 *   auth-responses: false
 *   queue-size: 10000            # frames held while the reader is slow or away; more are dropped
 * ```
 */
export const dnstapSchema = z
  .strictObject({
    socket: z.string().min(1).optional(),
    tcp: hostPort.optional(),
    file: z.string().min(1).optional(),
    identity: z.string().max(255).optional(),
    version: z.string().max(255).optional(),
    'client-queries': z.boolean().default(true),
    'client-responses': z.boolean().default(true),
    'resolver-queries': z.boolean().default(false),
    'resolver-responses': z.boolean().default(false),
    'auth-queries': z.boolean().default(false),
    'auth-responses': z.boolean().default(false),
    'queue-size': z.number().int().min(1).max(1_000_000).default(10_000),
  })
  .refine((c) => [c.socket, c.tcp, c.file].filter((x) => x !== undefined).length === 1, {
    message: 'dnstap needs exactly one of socket, tcp or file',
  });

export type DnstapConfigInput = z.input<typeof dnstapSchema>;
export type DnstapConfig = z.output<typeof dnstapSchema>;

export type DnstapEventType = 'client-query' | 'client-response' | 'resolver-query' | 'resolver-response' | 'auth-query' | 'auth-response';

const EVENT_TYPE: Record<DnstapEventType, number> = {
  'client-query': MessageType.CLIENT_QUERY,
  'client-response': MessageType.CLIENT_RESPONSE,
  'resolver-query': MessageType.RESOLVER_QUERY,
  'resolver-response': MessageType.RESOLVER_RESPONSE,
  'auth-query': MessageType.AUTH_QUERY,
  'auth-response': MessageType.AUTH_RESPONSE,
};

/**
 * Sink options from a parsed `dnstap:` section. Relative `socket` and `file` paths are taken
 * relative to `baseDir` (the config file's folder).
 */
export function dnstapSinkOptions(config: DnstapConfig, baseDir = '.'): DnstapSinkOptions {
  const abs = (p: string | undefined) => (p === undefined || isAbsolute(p) ? p : resolvePath(baseDir, p));
  const types: DnstapEventType[] = [];
  const keys: Array<[keyof DnstapConfig, DnstapEventType]> = [
    ['client-queries', 'client-query'], ['client-responses', 'client-response'],
    ['resolver-queries', 'resolver-query'], ['resolver-responses', 'resolver-response'],
    ['auth-queries', 'auth-query'], ['auth-responses', 'auth-response'],
  ];
  for (const [k, t] of keys) if (config[k] === true) types.push(t);
  return {
    socket: abs(config.socket), tcp: config.tcp, file: abs(config.file),
    identity: config.identity, version: config.version, types, queueSize: config['queue-size'],
  };
}

export function parseHostPort(s: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(s) ?? /^([^:]+):(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535 || net.isIP(m[1]!) === 0) return undefined;
  return { host: m[1]!, port };
}

// ---------------------------------------------------------------------------------------------
// What the log calls take

/** An address and port (the pipeline's `Endpoint` fits). */
export interface DnstapEndpoint {
  readonly address: string;
  readonly port: number;
}

/** Time of an event: a process.hrtime.bigint() reading, epoch milliseconds, or a Date. */
export type DnstapTime = bigint | number | Date;

/** The parts of a pipeline `Request` a client event needs (a `Request` fits as it is). */
export interface DnstapClientInfo {
  readonly client: DnstapEndpoint;
  readonly local: DnstapEndpoint;
  readonly transport: 'udp' | 'tcp' | 'tls' | 'https';
  /** process.hrtime.bigint() at arrival: the query time of a response event. */
  readonly receivedAt?: bigint;
}

/** One outgoing query of the resolver. */
export interface DnstapUpstreamInfo {
  readonly server: DnstapEndpoint;
  /** Our side of the socket, when known. */
  readonly local?: DnstapEndpoint;
  readonly protocol: 'udp' | 'tcp' | 'tls';
  /** The zone (bailiwick) the server was asked as an authority for. */
  readonly zone?: Name | string;
  /** When the query was sent (process.hrtime.bigint()): the query time of a response event. */
  readonly sentAt?: bigint;
}

/**
 * One upstream exchange with the bytes on the wire (the resolver's `NetUpstream` `onExchange`
 * hook gives exactly this): logged as RESOLVER_QUERY and, when answered, RESOLVER_RESPONSE.
 */
export interface DnstapExchange {
  readonly server: DnstapEndpoint;
  readonly local?: DnstapEndpoint | undefined;
  readonly protocol: 'udp' | 'tcp' | 'tls';
  readonly zone?: Name | string | undefined;
  readonly query: Uint8Array;
  readonly response?: Uint8Array | undefined;
  /** process.hrtime.bigint() when the query was sent. */
  readonly sentAt: bigint;
  /** Epoch milliseconds when the answer arrived (default: now). */
  readonly doneAtMs?: number;
}

const PROTOCOL = { udp: SocketProtocol.UDP, tcp: SocketProtocol.TCP, tls: SocketProtocol.DOT, https: SocketProtocol.DOH } as const;

// ---------------------------------------------------------------------------------------------
// The sink

export interface DnstapSinkOptions {
  /** Unix socket of a Frame Streams reader (fstrm_capture -u, dnstap-read's peers, dnscollector). */
  socket?: string;
  /** "host:port" of a Frame Streams reader over TCP. */
  tcp?: string;
  /** File to write (truncated when opened); `dnstap-read FILE` reads it. */
  file?: string;
  identity?: string;
  /** Default "portcullis". */
  version?: string;
  /** Events to write; default client queries and responses. */
  types?: readonly DnstapEventType[];
  /** Frames held while the reader is slow or away (default 10000); more are dropped and counted. */
  queueSize?: number;
  /** Bytes held at most (default 32 MiB), whichever bound comes first. */
  queueBytes?: number;
  /** Reconnect backoff: first delay and cap, ms (default 250 and 30000). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** How long a connection may take to be accepted, ms (default 5000). */
  handshakeTimeoutMs?: number;
  /** How long close() waits to deliver queued frames and for FINISH, ms (default 5000). */
  closeTimeoutMs?: number;
  /** Told about connection problems: once when the output is lost, not on every retry. */
  onError?: (err: Error) => void;
}

export type DnstapState = 'connecting' | 'handshake' | 'running' | 'backoff' | 'stopping' | 'closed' | 'failed';

export interface DnstapStats {
  readonly state: DnstapState;
  /** Events accepted by a log call (of an enabled type). */
  readonly logged: number;
  /** Frames handed to the socket or file. */
  readonly sent: number;
  /** Frames lost: queue full, encoding refused, or still queued at close. */
  readonly dropped: number;
  readonly queued: number;
  /** Successful handshakes (or file opens). */
  readonly connects: number;
  readonly lastError?: string;
}

const BATCH_FRAMES = 512;
const BATCH_BYTES = 256 * 1024;

/**
 * Writes dnstap frames without ever blocking the caller: each log call encodes one frame and
 * puts it in a bounded queue, which is written once per event-loop turn while the output keeps
 * up (Node's write() backpressure). When the reader is slow or gone the queue fills and new
 * frames are dropped and counted; a lost connection is retried with exponential backoff.
 */
export class DnstapSink {
  private readonly header: DnstapHeader;
  private readonly want = new Set<number>();
  private readonly maxFrames: number;
  private readonly maxBytes: number;
  private readonly opts: DnstapSinkOptions;
  private readonly target: { kind: 'socket'; path: string } | { kind: 'tcp'; host: string; port: number } | { kind: 'file'; path: string };

  private queue: Buffer[] = [];
  private head = 0;
  private queuedBytes = 0;
  private out: Writable | undefined;
  private sock: net.Socket | undefined;
  private waitingDrain = false;
  private pumpScheduled = false;
  private state: DnstapState = 'connecting';
  private closing = false;
  private closed: Promise<void> | undefined;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reported = false;
  private readonly waiters = new Set<() => void>();
  private counts = { logged: 0, sent: 0, dropped: 0, connects: 0 };
  /** Parsed addresses: listeners and busy clients repeat; bounded by clearing when full. */
  private readonly addresses = new Map<string, ReturnType<typeof addressBytes>>();
  private lastError: string | undefined;

  constructor(opts: DnstapSinkOptions) {
    this.opts = opts;
    const given = [opts.socket, opts.tcp, opts.file].filter((x) => x !== undefined).length;
    if (given !== 1) throw new Error('dnstap: exactly one of socket, tcp or file is needed');
    if (opts.tcp !== undefined) {
      const hp = parseHostPort(opts.tcp);
      if (!hp) throw new Error(`dnstap: bad tcp address "${opts.tcp}" (expected ADDRESS:PORT)`);
      this.target = { kind: 'tcp', ...hp };
    } else if (opts.socket !== undefined) this.target = { kind: 'socket', path: opts.socket };
    else this.target = { kind: 'file', path: opts.file! };
    this.header = {
      identity: opts.identity !== undefined ? Buffer.from(opts.identity) : undefined,
      version: Buffer.from(opts.version ?? 'portcullis'),
    };
    for (const t of opts.types ?? ['client-query', 'client-response']) this.want.add(EVENT_TYPE[t]);
    this.maxFrames = Math.max(1, opts.queueSize ?? 10_000);
    this.maxBytes = Math.max(1, opts.queueBytes ?? 32 * 1024 * 1024);
    if (this.target.kind === 'file') this.openFile(this.target.path);
    else this.connect();
  }

  /** Whether events of this type are written (so callers can skip work for the others). */
  wants(type: DnstapEventType): boolean {
    return this.want.has(EVENT_TYPE[type]);
  }

  /** A query as it arrived from a client (CLIENT_QUERY). `time` defaults to `req.receivedAt`, then now. */
  logClientQuery(req: DnstapClientInfo, query: Uint8Array, time?: DnstapTime): void {
    this.client(MessageType.CLIENT_QUERY, req, query, undefined, time ?? req.receivedAt, undefined);
  }

  /** The response sent to a client (CLIENT_RESPONSE); `query`, when given, is included too. */
  logClientResponse(req: DnstapClientInfo, response: Uint8Array, time?: DnstapTime, query?: Uint8Array): void {
    this.client(MessageType.CLIENT_RESPONSE, req, query, response, req.receivedAt, time ?? Date.now());
  }

  /** AUTH_QUERY: a query a client sent us as an authoritative server. */
  logAuthQuery(req: DnstapClientInfo, query: Uint8Array, time?: DnstapTime): void {
    this.client(MessageType.AUTH_QUERY, req, query, undefined, time ?? req.receivedAt, undefined);
  }

  /** AUTH_RESPONSE: our authoritative answer to a client. */
  logAuthResponse(req: DnstapClientInfo, response: Uint8Array, time?: DnstapTime, query?: Uint8Array): void {
    this.client(MessageType.AUTH_RESPONSE, req, query, response, req.receivedAt, time ?? Date.now());
  }

  /** A query the resolver sent upstream (RESOLVER_QUERY). `time` defaults to `up.sentAt`, then now. */
  logResolverQuery(up: DnstapUpstreamInfo, query: Uint8Array, time?: DnstapTime): void {
    this.upstream(MessageType.RESOLVER_QUERY, up, query, undefined, time ?? up.sentAt, undefined);
  }

  /** The response the resolver received (RESOLVER_RESPONSE). */
  logResolverResponse(up: DnstapUpstreamInfo, response: Uint8Array, time?: DnstapTime, query?: Uint8Array): void {
    this.upstream(MessageType.RESOLVER_RESPONSE, up, query, response, up.sentAt, time ?? Date.now());
  }

  /** RESOLVER_QUERY and (when answered) RESOLVER_RESPONSE for one upstream exchange. */
  logResolverExchange(x: DnstapExchange): void {
    const up: DnstapUpstreamInfo = { server: x.server, local: x.local, protocol: x.protocol, zone: x.zone, sentAt: x.sentAt };
    this.upstream(MessageType.RESOLVER_QUERY, up, x.query, undefined, x.sentAt, undefined);
    if (x.response) this.upstream(MessageType.RESOLVER_RESPONSE, up, undefined, x.response, x.sentAt, x.doneAtMs ?? Date.now());
  }

  stats(): DnstapStats {
    return { state: this.state, ...this.counts, queued: this.queue.length - this.head, lastError: this.lastError };
  }

  /** Resolves true once the output is accepted and writing, false after `timeoutMs` or on close. */
  whenRunning(timeoutMs = 5000): Promise<boolean> {
    return this.waitFor(() => this.state === 'running' || this.closing, timeoutMs).then(() => this.state === 'running');
  }

  /**
   * Writes what is queued, ends the stream (STOP; on a socket, waits for the reader's FINISH)
   * and stops reconnecting. Frames that cannot be delivered within `closeTimeoutMs` are dropped
   * and counted. Safe to call more than once.
   */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  // ------------------------------------------------------------------------------ events

  private client(type: number, req: DnstapClientInfo, query: Uint8Array | undefined, response: Uint8Array | undefined, qt: DnstapTime | undefined, rt: DnstapTime | undefined): void {
    if (!this.want.has(type)) return;
    this.counts.logged++;
    if (this.full()) return;
    const c = this.address(req.client.address);
    const l = this.address(req.local.address);
    this.enqueue({
      type,
      socketFamily: c?.family ?? l?.family,
      socketProtocol: PROTOCOL[req.transport],
      queryAddress: c?.bytes,
      responseAddress: l?.bytes,
      queryPort: req.client.port,
      responsePort: req.local.port,
      queryTime: qt !== undefined ? toTimestamp(qt) : undefined,
      queryMessage: query,
      responseTime: rt !== undefined ? toTimestamp(rt) : undefined,
      responseMessage: response,
    });
  }

  private upstream(type: number, up: DnstapUpstreamInfo, query: Uint8Array | undefined, response: Uint8Array | undefined, qt: DnstapTime | undefined, rt: DnstapTime | undefined): void {
    if (!this.want.has(type)) return;
    this.counts.logged++;
    if (this.full()) return;
    const s = this.address(up.server.address);
    const l = up.local ? this.address(up.local.address) : undefined;
    let zone: Uint8Array | undefined;
    if (up.zone !== undefined) {
      try {
        const w = new WireWriter();
        w.name(typeof up.zone === 'string' ? Name.parse(up.zone) : up.zone, false);
        zone = w.finish();
      } catch {
        zone = undefined; // a bad zone name loses the field, not the event
      }
    }
    this.enqueue({
      type,
      socketFamily: s?.family,
      socketProtocol: PROTOCOL[up.protocol],
      queryAddress: l?.bytes,
      responseAddress: s?.bytes,
      queryPort: up.local?.port,
      responsePort: up.server.port,
      queryTime: qt !== undefined ? toTimestamp(qt) : undefined,
      queryMessage: query,
      queryZone: zone,
      responseTime: rt !== undefined ? toTimestamp(rt) : undefined,
      responseMessage: response,
    });
  }

  private address(a: string): ReturnType<typeof addressBytes> {
    let r = this.addresses.get(a);
    if (r === undefined && !this.addresses.has(a)) {
      r = addressBytes(a);
      if (this.addresses.size >= 4096) this.addresses.clear();
      this.addresses.set(a, r);
    }
    return r;
  }

  /** True (and counted as a drop) when no frame may be added now. */
  private full(): boolean {
    if (this.closing || this.state === 'failed' || this.queue.length - this.head >= this.maxFrames || this.queuedBytes >= this.maxBytes) {
      this.counts.dropped++;
      return true;
    }
    return false;
  }

  private enqueue(m: DnstapMessage): void {
    let frame: Buffer;
    try {
      frame = encodeDnstapFrame(this.header, m);
    } catch {
      this.counts.dropped++;
      return;
    }
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    if (this.state === 'running') this.schedulePump();
  }

  // ------------------------------------------------------------------------------ output

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // One write per event-loop turn gathers the frames of every packet handled in it.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const out = this.out;
    if (!out || this.waitingDrain || (this.state !== 'running' && this.state !== 'stopping')) return;
    while (this.head < this.queue.length) {
      const start = this.head;
      let bytes = 0;
      while (this.head < this.queue.length && this.head - start < BATCH_FRAMES && bytes < BATCH_BYTES) bytes += this.queue[this.head++]!.length;
      const batch = this.queue.slice(start, this.head);
      for (let i = start; i < this.head; i++) this.queue[i] = EMPTY;
      this.queuedBytes -= bytes;
      this.counts.sent += batch.length;
      const more = out.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch, bytes));
      if (!more) {
        this.waitingDrain = true;
        break;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    } else if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    this.notify();
  }

  private setState(s: DnstapState): void {
    this.state = s;
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves when `pred` holds (checked on every state change and write), or after `ms`. */
  private waitFor(pred: () => boolean, ms: number): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const check = () => {
        if (pred()) done();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(check);
    });
  }

  /** Records a problem; tells onError once per streak (errors caused by close() itself only with `always`). */
  private failed(err: Error, always = false): void {
    this.lastError = err.message;
    if (!this.reported && (always || !this.closing)) {
      this.reported = true;
      this.opts.onError?.(err);
    }
  }

  private openFile(path: string): void {
    this.setState('connecting');
    const stream = createWriteStream(path, { flags: 'w' });
    stream.on('error', (e) => {
      // A file is not retried: reopening would truncate what was written. Frames are dropped.
      this.failed(new Error(`dnstap file ${path}: ${e.message}`), true);
      this.out = undefined;
      this.dropQueued();
      this.setState('failed');
    });
    stream.on('drain', () => {
      this.waitingDrain = false;
      this.pump();
    });
    stream.on('ready', () => {
      this.out = stream;
      // A one-way stream: START names the content type, no READY/ACCEPT.
      stream.write(controlFrame(ControlType.START, [DNSTAP_CONTENT_TYPE]));
      this.counts.connects++;
      this.setState('running');
      this.schedulePump();
    });
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    if (this.closing) return;
    this.setState('connecting');
    const t = this.target;
    const sock = t.kind === 'tcp' ? net.createConnection({ host: t.host, port: t.port }) : net.createConnection({ path: (t as { path: string }).path });
    this.sock = sock;
    const decoder = new FrameDecoder(4096);
    let finished = false;
    const handshake = setTimeout(() => sock.destroy(new FstrmError('no ACCEPT from the dnstap reader')), this.opts.handshakeTimeoutMs ?? 5000);
    sock.on('connect', () => {
      if (t.kind === 'tcp') sock.setNoDelay(true);
      this.setState('handshake');
      sock.write(controlFrame(ControlType.READY, [DNSTAP_CONTENT_TYPE]));
    });
    sock.on('data', (chunk) => {
      let frames;
      try {
        frames = decoder.push(chunk);
      } catch (e) {
        sock.destroy(e as Error);
        return;
      }
      for (const f of frames) {
        if (f.kind !== 'control') {
          sock.destroy(new FstrmError('dnstap reader sent a data frame'));
          return;
        }
        if (f.type === ControlType.ACCEPT && this.sock === sock && this.state === 'handshake') {
          clearTimeout(handshake);
          if (f.contentTypes.length > 0 && !f.contentTypes.includes(DNSTAP_CONTENT_TYPE)) {
            sock.destroy(new FstrmError(`dnstap reader accepts only ${f.contentTypes.join(', ')}`));
            return;
          }
          sock.write(controlFrame(ControlType.START, [DNSTAP_CONTENT_TYPE]));
          this.out = sock;
          this.waitingDrain = false;
          this.attempt = 0;
          this.reported = false;
          this.counts.connects++;
          this.setState('running');
          this.schedulePump();
        } else if (f.type === ControlType.FINISH) {
          finished = true;
          sock.end();
        } else {
          sock.destroy(new FstrmError(`unexpected ${controlTypeName(f.type)} from the dnstap reader`));
          return;
        }
      }
    });
    sock.on('drain', () => {
      if (this.out !== sock) return;
      this.waitingDrain = false;
      this.pump();
    });
    let errored = false;
    sock.on('error', (e) => {
      errored = true;
      this.failed(e);
    });
    sock.on('close', () => {
      clearTimeout(handshake);
      if (this.sock !== sock) return;
      this.sock = undefined;
      this.out = undefined;
      this.waitingDrain = false;
      if (this.closing) {
        this.setState('closed');
        return;
      }
      if (!errored) this.failed(new Error(finished ? 'dnstap reader finished the stream' : 'dnstap reader closed the connection'));
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    const min = this.opts.backoffMinMs ?? 250;
    const max = this.opts.backoffMaxMs ?? 30_000;
    const delay = Math.min(max, min * 2 ** Math.min(this.attempt, 20));
    this.attempt++;
    this.setState('backoff');
    // Jitter (50-100 %) so many servers restarted together do not reconnect in step.
    this.reconnectTimer = setTimeout(() => this.connect(), delay * (0.5 + Math.random() / 2));
    this.reconnectTimer.unref();
  }

  private async shutdown(): Promise<void> {
    const limit = this.opts.closeTimeoutMs ?? 5000;
    const deadline = Date.now() + limit;
    const left = () => Math.max(0, deadline - Date.now());
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    if (this.state === 'connecting' || this.state === 'handshake') {
      await this.waitFor(() => this.state !== 'connecting' && this.state !== 'handshake', left());
    }
    const out = this.out;
    if (this.state === 'running' && out) {
      this.pump();
      await this.waitFor(() => this.out !== out || (this.head === this.queue.length && !this.waitingDrain), left());
      if (this.out === out) {
        this.state = 'stopping';
        // Anything still queued now cannot be delivered in time.
        this.dropQueued();
        out.write(controlFrame(ControlType.STOP));
        if (this.target.kind === 'file') {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, left());
            out.end(() => {
              clearTimeout(timer);
              resolve();
            });
          });
        } else {
          // The reader answers STOP with FINISH; the data handler then ends the socket.
          await this.waitFor(() => this.sock === undefined, left());
        }
      }
    }
    this.dropQueued();
    this.sock?.destroy();
    this.sock = undefined;
    if (this.out && this.target.kind === 'file') this.out.destroy();
    this.out = undefined;
    this.setState('closed');
    this.waiters.clear();
  }

  private dropQueued(): void {
    this.counts.dropped += this.queue.length - this.head;
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
  }
}

const EMPTY = Buffer.alloc(0);

// ---------------------------------------------------------------------------------------------
// Metrics

/**
 * Registers the dnstap metrics once per registry; `current` returns the sink in use (it may
 * change on reload; counts of replaced sinks are kept so the counters never go down).
 *   portcullis_dnstap_frames_total{outcome="sent"|"dropped"}, portcullis_dnstap_queue_frames,
 *   portcullis_dnstap_connected (1 while a reader accepts frames)
 */
export function registerDnstapMetrics(registry: Registry, current: () => DnstapSink | undefined): void {
  const { Counter, Gauge } = promClient();
  const base = { sent: 0, dropped: 0 };
  let last: DnstapSink | undefined;
  const totals = () => {
    const s = current();
    if (s !== last) {
      if (last) {
        const old = last.stats();
        base.sent += old.sent;
        base.dropped += old.dropped;
      }
      last = s;
    }
    const now = s?.stats();
    return { sent: base.sent + (now?.sent ?? 0), dropped: base.dropped + (now?.dropped ?? 0), queued: now?.queued ?? 0, connected: now?.state === 'running' ? 1 : 0 };
  };
  const registers = [registry];
  new Counter({
    name: 'portcullis_dnstap_frames_total', help: 'dnstap frames written or dropped', labelNames: ['outcome'], registers,
    collect() {
      const t = totals();
      this.reset();
      this.inc({ outcome: 'sent' }, t.sent);
      this.inc({ outcome: 'dropped' }, t.dropped);
    },
  });
  new Gauge({ name: 'portcullis_dnstap_queue_frames', help: 'dnstap frames waiting for the reader', registers, collect() { this.set(totals().queued); } });
  new Gauge({ name: 'portcullis_dnstap_connected', help: '1 while the dnstap output accepts frames', registers, collect() { this.set(totals().connected); } });
}
