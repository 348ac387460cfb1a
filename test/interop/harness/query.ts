// Sends one query with our own wire codec over UDP or TCP and returns the decoded reply.
// Every call is bounded: a timeout per attempt and a fixed number of UDP retries.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import {
  decodeMessage, encodeMessage, makeMessage, Name, RRClass, typeFromString, type Edns, type Message,
} from '../../../src/wire/index.js';

/** Where a server listens. */
export interface ServerAddress {
  readonly address: string;
  readonly port: number;
}

export interface QueryOptions {
  /** Use TCP instead of UDP. */
  tcp?: boolean;
  /** Add an OPT record (default true when `do` or `bufsize` is given, else false). */
  edns?: boolean;
  /** Set the DO bit (implies EDNS). */
  do?: boolean;
  /** Advertised UDP payload size (implies EDNS); default 1232. */
  bufsize?: number;
  /** Recursion desired (default false: we talk to authoritative servers). */
  rd?: boolean;
  /** Query class (default IN). */
  qclass?: number;
  /** Per-attempt timeout in ms (default 2000). */
  timeoutMs?: number;
  /** UDP attempts (default 3). */
  attempts?: number;
}

export interface QueryResult {
  readonly message: Message;
  /** The reply as received (without the TCP length prefix). */
  readonly wire: Uint8Array;
  readonly transport: 'udp' | 'tcp';
}

let nextId = 1 + Math.floor(Math.random() * 0xfffe);

/** Builds the query bytes; exported so tests can inspect what is sent. */
export function buildQuery(qname: string | Name, qtype: string | number, opts: QueryOptions = {}): { id: number; wire: Uint8Array } {
  const name = typeof qname === 'string' ? Name.parse(qname.endsWith('.') ? qname : `${qname}.`) : qname;
  const type = typeof qtype === 'number' ? qtype : typeFromString(qtype);
  if (type === undefined) throw new Error(`unknown query type "${String(qtype)}"`);
  const useEdns = opts.edns ?? (opts.do !== undefined || opts.bufsize !== undefined);
  const edns: Edns | undefined = useEdns
    ? { udpSize: opts.bufsize ?? 1232, version: 0, do: opts.do ?? false, z: 0, options: [] }
    : undefined;
  const id = nextId;
  nextId = nextId === 0xffff ? 1 : nextId + 1;
  const msg = makeMessage({
    id, rd: opts.rd ?? false, question: [{ name, type, class: opts.qclass ?? RRClass.IN }], edns,
  });
  return { id, wire: encodeMessage(msg) };
}

/** Asks `server` one question; rejects with a clear message on timeout or a malformed reply. */
export async function query(
  server: ServerAddress, qname: string | Name, qtype: string | number, opts: QueryOptions = {},
): Promise<QueryResult> {
  const { id, wire } = buildQuery(qname, qtype, opts);
  const timeoutMs = opts.timeoutMs ?? 2000;
  const raw = opts.tcp
    ? await exchangeTcp(server, wire, timeoutMs)
    : await exchangeUdp(server, wire, id, timeoutMs, opts.attempts ?? 3);
  let message: Message;
  try {
    message = decodeMessage(raw);
  } catch (e) {
    throw new Error(`${server.address}:${server.port}: undecodable reply to ${String(qname)}/${String(qtype)}: ${(e as Error).message}`);
  }
  if (message.id !== id) throw new Error(`${server.address}:${server.port}: reply id ${message.id} != query id ${id}`);
  return { message, wire: raw, transport: opts.tcp ? 'tcp' : 'udp' };
}

function exchangeUdp(server: ServerAddress, wire: Uint8Array, id: number, timeoutMs: number, attempts: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const family = server.address.includes(':') ? 'udp6' : 'udp4';
    const sock = createSocket(family);
    let tries = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err: Error | undefined, data?: Uint8Array): void => {
      if (timer) clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(data!);
    };
    const send = (): void => {
      tries++;
      sock.send(wire, server.port, server.address, (err) => { if (err) finish(err); });
      timer = setTimeout(() => {
        if (tries >= attempts) finish(new Error(`${server.address}:${server.port}: no UDP reply after ${attempts} attempts of ${timeoutMs} ms`));
        else send();
      }, timeoutMs);
    };
    sock.on('error', (err) => finish(err));
    sock.on('message', (msg) => {
      // Ignore stray datagrams (a late reply to an earlier attempt carries the same id: fine).
      if (msg.length >= 2 && msg.readUInt16BE(0) === id) finish(undefined, new Uint8Array(msg));
    });
    sock.bind(0, family === 'udp6' ? '::1' : '127.0.0.1', send);
  });
}

function exchangeTcp(server: ServerAddress, wire: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: server.address, port: server.port });
    const chunks: Buffer[] = [];
    let have = 0;
    let done = false;
    const finish = (err: Error | undefined, data?: Uint8Array): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(data!);
    };
    const timer = setTimeout(() => finish(new Error(`${server.address}:${server.port}: no TCP reply within ${timeoutMs} ms`)), timeoutMs);
    sock.on('connect', () => {
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(wire.length);
      sock.write(Buffer.concat([prefix, wire]));
    });
    sock.on('data', (d) => {
      chunks.push(d);
      have += d.length;
      if (have < 2) return;
      const all = Buffer.concat(chunks);
      const len = all.readUInt16BE(0);
      if (all.length >= 2 + len) finish(undefined, new Uint8Array(all.subarray(2, 2 + len)));
    });
    sock.on('error', (err) => finish(err));
    sock.on('close', () => finish(new Error(`${server.address}:${server.port}: TCP connection closed before a full reply`)));
  });
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
