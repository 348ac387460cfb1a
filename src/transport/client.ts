/**
 * A small DNS client: one query over UDP or TCP, and AXFR.
 *
 * Every call picks a fresh random message ID (and, over UDP, a fresh socket and so a fresh
 * random source port), matches the answer on ID and question, and enforces a timeout. Failures
 * are always a `ClientError` with a `kind`, never a bare socket error, so callers can switch on
 * what went wrong (the audit reports "timeout" and "refused" differently).
 *
 *   const { message, size } = await queryUdp({ address: '127.0.0.1', port: 53 },
 *     makeMessage({ rd: true, question: [{ name: Name.parse('example.test.'), type: RRType.A, class: RRClass.IN }] }),
 *     { timeout: 2000 });
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { decodeMessage, encodeMessage, RRType, type Message, type ResourceRecord } from '../wire/index.js';

export interface ServerAddress {
  readonly address: string;
  readonly port: number;
}

export interface QueryOptions {
  /** Milliseconds to wait for the whole exchange (default 2000). */
  timeout?: number;
  /** Keep the ID the message already has instead of a random one (tests, replays). */
  keepId?: boolean;
}

export interface QueryResult {
  /** The decoded answer. */
  message: Message;
  /** The answer's bytes as received (without the TCP length prefix). */
  raw: Uint8Array;
  /** Size of the answer in bytes. */
  size: number;
  /** Size of the query that was sent, in bytes. */
  querySize: number;
  /** Round-trip time in milliseconds. */
  rtt: number;
}

export type ClientErrorKind =
  /** No answer within the timeout. */
  | 'timeout'
  /** The connection was refused or the port is unreachable (ICMP). */
  | 'refused'
  /** Any other socket failure (reset, no route, ...). */
  | 'network'
  /** The answer could not be decoded; `raw` holds it. */
  | 'malformed'
  /** The peer closed the TCP connection before a complete answer. */
  | 'closed'
  /** An AXFR was answered with an error rcode or ended without the closing SOA. */
  | 'transfer';

export class ClientError extends Error {
  constructor(
    readonly kind: ClientErrorKind,
    message: string,
    /** The offending bytes, for `malformed`. */
    readonly raw?: Uint8Array,
    /** The answer that ended a failed transfer, when there was one. */
    readonly response?: Message,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

const DEFAULT_TIMEOUT = 2000;

function withId(msg: Message, opts: QueryOptions): Message {
  return opts.keepId ? msg : { ...msg, id: randomInt(0, 0x10000) };
}

/** True when `answer` answers `query`: same ID, and the same question when it carries one. */
export function matchesQuery(query: Message, answer: Message): boolean {
  if (!answer.qr || answer.id !== query.id) return false;
  // FORMERR, NOTIMP and BADVERS answers may legitimately omit the question (RFC 6891 §7).
  if (answer.question.length === 0) return true;
  const q = query.question[0];
  const a = answer.question[0]!;
  if (!q) return answer.question.length === 0;
  return a.type === q.type && a.class === q.class && a.name.equals(q.name);
}

function socketError(e: unknown): ClientError {
  if (e instanceof ClientError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNREFUSED') return new ClientError('refused', 'connection refused (nothing listens on that port)');
  return new ClientError('network', `network error: ${(e as Error)?.message ?? String(e)}`);
}

/**
 * Reads an ID from raw bytes and decides if they are worth decoding: stray datagrams with
 * another ID are ignored, a matching one that fails to decode is `malformed`.
 */
function decodeAnswer(query: Message, raw: Uint8Array): Message | undefined {
  if (raw.length < 2 || ((raw[0]! << 8) | raw[1]!) !== query.id) return undefined;
  let msg: Message;
  try {
    msg = decodeMessage(raw);
  } catch (e) {
    throw new ClientError('malformed', `undecodable answer (${raw.length} bytes): ${(e as Error).message}`, raw);
  }
  return matchesQuery(query, msg) ? msg : undefined;
}

/** One query over UDP from a fresh socket. Datagrams that do not match are ignored. */
export function queryUdp(server: ServerAddress, msg: Message, opts: QueryOptions = {}): Promise<QueryResult> {
  const query = withId(msg, opts);
  const wire = encodeMessage(query);
  const timeout = opts.timeout ?? DEFAULT_TIMEOUT;
  return new Promise<QueryResult>((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(server.address) ? 'udp6' : 'udp4');
    const started = performance.now();
    let done = false;
    const finish = (err: ClientError | undefined, res?: QueryResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        sock.close();
      } catch {
        // already closed
      }
      if (err) reject(err);
      else resolve(res!);
    };
    const timer = setTimeout(() => finish(new ClientError('timeout', `no answer over UDP within ${timeout} ms`)), timeout);
    sock.on('error', (e) => finish(socketError(e)));
    sock.on('message', (buf) => {
      const raw = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
      try {
        const message = decodeAnswer(query, raw);
        if (message) finish(undefined, { message, raw, size: raw.length, querySize: wire.length, rtt: performance.now() - started });
      } catch (e) {
        finish(socketError(e));
      }
    });
    // A connected socket only accepts datagrams from the server and reports ICMP
    // port-unreachable as ECONNREFUSED, so a closed port fails fast instead of timing out.
    sock.connect(server.port, server.address, () => {
      sock.send(wire, (e) => {
        if (e) finish(socketError(e));
      });
    });
  });
}

/**
 * A TCP connection carrying 2-byte length-prefixed messages (RFC 1035 §4.2.2, RFC 7766).
 * `exchange` sends one query and collects answers with its ID until `more` says stop.
 */
class TcpStream {
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: ((m: Uint8Array | ClientError) => void) | undefined;
  private failure: ClientError | undefined;
  private readonly frames: Uint8Array[] = [];

  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
      while (this.buffered.length >= 2) {
        const len = this.buffered.readUInt16BE(0);
        if (this.buffered.length < 2 + len) break;
        this.push(new Uint8Array(this.buffered.subarray(2, 2 + len)));
        this.buffered = this.buffered.subarray(2 + len);
      }
    });
    sock.on('error', (e) => this.fail(socketError(e)));
    sock.on('close', () => this.fail(new ClientError('closed', 'the server closed the TCP connection before answering')));
  }

  static open(server: ServerAddress, timeout: number): Promise<TcpStream> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: server.address, port: server.port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new ClientError('timeout', `TCP connect did not complete within ${timeout} ms`));
      }, timeout);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(new TcpStream(sock));
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        sock.destroy();
        reject(socketError(e));
      });
    });
  }

  private push(frame: Uint8Array): void {
    const w = this.waiting;
    if (w) {
      this.waiting = undefined;
      w(frame);
    } else this.frames.push(frame);
  }

  private fail(e: ClientError): void {
    if (this.failure) return;
    this.failure = e;
    const w = this.waiting;
    this.waiting = undefined;
    w?.(e);
  }

  send(wire: Uint8Array): void {
    const out = Buffer.alloc(2 + wire.length);
    out.writeUInt16BE(wire.length, 0);
    out.set(wire, 2);
    this.sock.write(out);
  }

  /** The next complete frame, or the failure that ended the stream. */
  next(): Promise<Uint8Array> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = (m) => (m instanceof ClientError ? reject(m) : resolve(m));
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

function deadline<T>(p: Promise<T>, ms: number, what: string, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new ClientError('timeout', `${what} did not complete within ${ms} ms`));
    }, ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** One query over a new TCP connection, closed afterwards. */
export async function queryTcp(server: ServerAddress, msg: Message, opts: QueryOptions = {}): Promise<QueryResult> {
  const query = withId(msg, opts);
  const wire = encodeMessage(query);
  const timeout = opts.timeout ?? DEFAULT_TIMEOUT;
  const started = performance.now();
  let stream: TcpStream | undefined;
  let expired = false;
  const run = async (): Promise<QueryResult> => {
    stream = await TcpStream.open(server, timeout);
    if (expired) stream.close();
    stream.send(wire);
    for (;;) {
      const raw = await stream.next();
      const message = decodeAnswer(query, raw);
      if (message) return { message, raw, size: raw.length, querySize: wire.length, rtt: performance.now() - started };
    }
  };
  try {
    return await deadline(run(), timeout, 'TCP query', () => {
      expired = true;
      stream?.close();
    });
  } catch (e) {
    throw socketError(e);
  } finally {
    stream?.close();
  }
}

export interface TransferResult {
  /** Every record of the transfer in order, the opening and closing SOA included. */
  records: ResourceRecord[];
  /** The answer messages as received. */
  messages: Message[];
  /** Total bytes received (without length prefixes). */
  bytes: number;
}

export interface TransferOptions extends QueryOptions {
  /** Upper bound on records accepted before giving up (default 1,000,000). */
  maxRecords?: number;
}

/**
 * AXFR over TCP (RFC 5936): answers are read until the SOA that opened the transfer appears
 * again. `msg` is the AXFR query (question `zone AXFR IN`, optionally signed by the caller).
 * A refusal or an error rcode is `ClientError('transfer')` with the answer attached.
 */
export async function transferAxfr(server: ServerAddress, msg: Message, opts: TransferOptions = {}): Promise<TransferResult> {
  const query = withId(msg, opts);
  const wire = encodeMessage(query);
  const timeout = opts.timeout ?? DEFAULT_TIMEOUT;
  const maxRecords = opts.maxRecords ?? 1_000_000;
  let stream: TcpStream | undefined;
  let expired = false;
  const run = async (): Promise<TransferResult> => {
    stream = await TcpStream.open(server, timeout);
    if (expired) stream.close();
    stream.send(wire);
    const records: ResourceRecord[] = [];
    const messages: Message[] = [];
    let bytes = 0;
    for (;;) {
      const raw = await stream.next();
      const message = decodeAnswer(query, raw);
      if (!message) continue;
      messages.push(message);
      bytes += raw.length;
      if (message.rcode !== 0) {
        throw new ClientError('transfer', `transfer answered with rcode ${message.rcode}`, raw, message);
      }
      if (messages.length === 1 && (message.answer.length === 0 || message.answer[0]!.type !== RRType.SOA)) {
        throw new ClientError('transfer', 'transfer did not start with a SOA record', raw, message);
      }
      for (const rr of message.answer) {
        records.push(rr);
        if (records.length > 1 && rr.type === RRType.SOA) return { records, messages, bytes };
      }
      if (records.length > maxRecords) throw new ClientError('transfer', `transfer exceeded ${maxRecords} records`);
    }
  };
  try {
    return await deadline(run(), timeout, 'zone transfer', () => {
      expired = true;
      stream?.close();
    });
  } catch (e) {
    throw socketError(e);
  } finally {
    stream?.close();
  }
}
