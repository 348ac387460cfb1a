import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { decodeMessage, encodeMessage, makeMessage, Name, Opcode, RRClass, RRType, type Message, type ResourceRecord, type SoaData } from '../wire/index.js';
import { readTsig, signMessage, StreamVerifier, verifyMessage, type TsigKey } from './tsig.js';
import type { JournalEntry } from './journal.js';

/**
 * The client side of zone transfers and NOTIFY: SOA checks, AXFR/IXFR in (RFC 5936, RFC 1995),
 * NOTIFY out (RFC 1996), each optionally TSIG-signed (RFC 8945). Signing works on the exact
 * bytes sent, and answers are verified on the exact bytes received, so this client keeps raw
 * frames instead of re-encoding messages (which is why `transport/client.ts` is not used).
 */
export interface Remote {
  readonly address: string;
  readonly port: number;
  readonly key?: TsigKey;
  /**
   * Our address to send from (`notify-source`, `transfer-source`); unset: the system picks one.
   * A secondary that accepts NOTIFY only from its primary's address, or a primary that allows
   * transfers by address, checks this one.
   */
  readonly source?: string;
  /** As configured, for logs. */
  readonly text: string;
}

/**
 * Parses `"ADDRESS[:PORT] [key NAME]"` (IPv6 in brackets), as in `primaries:` and `notify:`.
 * `keys` finds a configured TSIG key by name.
 */
export function parseRemote(text: string, keys: (name: string) => TsigKey | undefined, defaultPort = 53): Remote {
  const m = /^\s*(\S+)(?:\s+key\s+(\S+))?\s*$/.exec(text);
  if (!m) throw new Error(`bad remote "${text}" (expected "ADDRESS[:PORT] [key NAME]")`);
  const hp = m[1]!;
  let address: string;
  let port = defaultPort;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(hp);
  if (v6) {
    address = v6[1]!;
    if (v6[2]) port = Number(v6[2]);
  } else if (net.isIPv6(hp)) address = hp;
  else {
    const i = hp.lastIndexOf(':');
    address = i >= 0 ? hp.slice(0, i) : hp;
    if (i >= 0) port = Number(hp.slice(i + 1));
  }
  if (!net.isIP(address)) throw new Error(`bad remote "${text}": "${address}" is not an IP address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad remote "${text}": bad port`);
  let key: TsigKey | undefined;
  if (m[2]) {
    key = keys(m[2]);
    if (!key) throw new Error(`remote "${text}": unknown key "${m[2]}"`);
  }
  return { address, port, key, text };
}

export class XfrClientError extends Error {
  constructor(
    message: string,
    /** The rcode of the answer, when the failure was an answer. */
    readonly rcode?: number,
  ) {
    super(message);
    this.name = 'XfrClientError';
  }
}

interface Signed {
  wire: Uint8Array;
  mac?: Uint8Array;
  id: number;
}

function prepare(msg: Message, key: TsigKey | undefined): Signed {
  const id = randomInt(0, 0x10000);
  const wire = encodeMessage({ ...msg, id });
  if (!key) return { wire, id };
  const s = signMessage(wire, key);
  return { wire: s.wire, mac: s.mac, id };
}

/** Checks the TSIG of a single answer; throws when a signed request got a bad or no signature. */
function checkAnswer(raw: Uint8Array, key: TsigKey | undefined, requestMac: Uint8Array | undefined): void {
  if (!key) return;
  const v = verifyMessage(raw, (n) => (n.equals(key.name) ? key : undefined), { requestMac });
  if (!v) throw new XfrClientError('answer is not signed', answerRcode(raw));
  if (!v.ok) throw new XfrClientError(`answer TSIG does not verify: ${v.reason} (TSIG error ${v.tsig.error})`, Number(decodeMessage(raw).rcode));
  if (v.tsig.error !== 0) throw new XfrClientError(`TSIG error ${v.tsig.error} in the answer`);
}

/** The rcode of an answer we could not accept otherwise (undefined when it does not decode). */
function answerRcode(raw: Uint8Array): number | undefined {
  try {
    return decodeMessage(raw).rcode;
  } catch {
    return undefined;
  }
}

/** One exchange over UDP (connected socket, so ICMP unreachable fails fast). */
export function exchangeUdp(remote: Remote, msg: Message, timeoutMs = 2000): Promise<{ message: Message; raw: Uint8Array }> {
  const req = prepare(msg, remote.key);
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(remote.address) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (err?: Error, res?: { message: Message; raw: Uint8Array }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        sock.close();
      } catch {
        /* closed */
      }
      if (err) reject(err);
      else resolve(res!);
    };
    const timer = setTimeout(() => finish(new XfrClientError(`no answer from ${remote.text} within ${timeoutMs} ms`)), timeoutMs);
    sock.on('error', (e) => finish(new XfrClientError(`${remote.text}: ${e.message}`)));
    sock.on('message', (buf) => {
      const raw = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
      if (raw.length < 12 || ((raw[0]! << 8) | raw[1]!) !== req.id) return;
      try {
        const message = decodeMessage(raw);
        if (!message.qr) return;
        checkAnswer(raw, remote.key, req.mac);
        finish(undefined, { message, raw });
      } catch (e) {
        finish(e instanceof XfrClientError ? e : new XfrClientError(`${remote.text}: undecodable answer: ${(e as Error).message}`));
      }
    });
    const send = () => sock.connect(remote.port, remote.address, () => sock.send(req.wire, (e) => e && finish(new XfrClientError(`${remote.text}: ${e.message}`))));
    // A bind failure (an address this host does not have) comes as the socket's 'error'.
    if (remote.source !== undefined) sock.bind({ address: remote.source, port: 0 }, send);
    else send();
  });
}

/** A TCP connection reading length-prefixed frames. */
class FrameStream {
  private buf: Buffer = Buffer.alloc(0);
  private frames: Uint8Array[] = [];
  private waiter: ((f: Uint8Array | Error) => void) | undefined;
  private failure: Error | undefined;

  constructor(readonly sock: net.Socket, what: string) {
    sock.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      while (this.buf.length >= 2) {
        const len = this.buf.readUInt16BE(0);
        if (this.buf.length < 2 + len) break;
        const f = new Uint8Array(this.buf.subarray(2, 2 + len));
        this.buf = this.buf.subarray(2 + len);
        const w = this.waiter;
        if (w) {
          this.waiter = undefined;
          w(f);
        } else this.frames.push(f);
      }
      // Backpressure: stop reading while frames wait to be processed.
      if (this.frames.length > 64) sock.pause();
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      const w = this.waiter;
      this.waiter = undefined;
      w?.(this.failure);
    };
    sock.on('error', (e) => fail(new XfrClientError(`${what}: ${e.message}`)));
    sock.on('close', () => fail(new XfrClientError(`${what}: connection closed before the answer was complete`)));
  }

  static open(remote: Remote, timeoutMs: number): Promise<FrameStream> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: remote.address, port: remote.port, ...(remote.source !== undefined ? { localAddress: remote.source } : {}) });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new XfrClientError(`${remote.text}: TCP connect timed out`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(new FrameStream(sock, remote.text));
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        sock.destroy();
        reject(new XfrClientError(`${remote.text}: ${e.message}`));
      });
    });
  }

  send(wire: Uint8Array): void {
    const out = Buffer.alloc(2 + wire.length);
    out.writeUInt16BE(wire.length, 0);
    out.set(wire, 2);
    this.sock.write(out);
  }

  next(): Promise<Uint8Array> {
    const f = this.frames.shift();
    if (this.frames.length < 16 && this.sock.isPaused()) this.sock.resume();
    if (f) return Promise.resolve(f);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = (x) => (x instanceof Error ? reject(x) : resolve(x));
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

/** What a transfer brought. */
export type TransferOutcome =
  | { kind: 'uptodate'; serial: number }
  | { kind: 'axfr'; soa: ResourceRecord<SoaData>; records: ResourceRecord[] }
  | { kind: 'ixfr'; soa: ResourceRecord<SoaData>; entries: JournalEntry[] };

export interface TransferOptions {
  /** Milliseconds for the whole transfer (default 120 s). */
  timeoutMs?: number;
  /** Upper bound on records (default 5,000,000). */
  maxRecords?: number;
}

/**
 * Reads an AXFR or IXFR answer record by record and says when it is complete.
 * IXFR (RFC 1995 §4): SOA(new), then either the whole zone (AXFR form, ends with SOA(new)),
 * or difference sequences SOA(old) deletions SOA(new') additions, ended by SOA(new).
 */
export class TransferReader {
  private first: ResourceRecord<SoaData> | undefined;
  private form: 'axfr' | 'ixfr' | undefined;
  readonly records: ResourceRecord[] = [];
  readonly entries: JournalEntry[] = [];
  private cur: { from: number; to: number; deleted: ResourceRecord[]; added: ResourceRecord[] } | undefined;
  private phase: 'deletions' | 'additions' = 'deletions';
  done = false;

  constructor(
    private readonly type: number,
    private readonly ourSerial?: number,
  ) {}

  get soa(): ResourceRecord<SoaData> | undefined {
    return this.first;
  }

  /** Takes the next record; returns true once the answer is complete. */
  push(rr: ResourceRecord): boolean {
    if (this.done) throw new XfrClientError('records after the end of the transfer');
    if (!this.first) {
      if (rr.type !== RRType.SOA) throw new XfrClientError('transfer did not start with a SOA record');
      this.first = rr as ResourceRecord<SoaData>;
      return false;
    }
    const isSoa = rr.type === RRType.SOA;
    const serial = isSoa ? (rr.data as SoaData).serial : -1;
    if (this.form === undefined) {
      // The second record decides: a SOA with our serial starts differences (IXFR form).
      if (this.type === RRType.IXFR && isSoa && serial === this.ourSerial && serial !== this.first.data.serial) {
        this.form = 'ixfr';
        this.cur = { from: serial, to: -1, deleted: [rr], added: [] };
        this.phase = 'deletions';
        return false;
      }
      this.form = 'axfr';
    }
    if (this.form === 'axfr') {
      if (isSoa) {
        this.done = true;
        return true;
      }
      this.records.push(rr);
      return false;
    }
    // IXFR form.
    const c = this.cur!;
    if (this.phase === 'deletions') {
      if (isSoa) {
        c.to = serial;
        c.added.push(rr);
        this.phase = 'additions';
      } else c.deleted.push(rr);
      return false;
    }
    if (!isSoa) {
      c.added.push(rr);
      return false;
    }
    this.entries.push(c);
    if (serial === this.first.data.serial && c.to === serial) {
      this.done = true;
      return true;
    }
    this.cur = { from: serial, to: -1, deleted: [rr], added: [] };
    this.phase = 'deletions';
    return false;
  }

  /** Called after each whole message: a lone SOA answering an IXFR means "up to date". */
  endOfMessage(count: number): boolean {
    if (this.type === RRType.IXFR && this.form === undefined && this.first && count === 1 && this.ourSerial !== undefined) {
      const s = this.first.data.serial;
      if (s === this.ourSerial || !((s - this.ourSerial) >>> 0 < 0x80000000)) {
        this.done = true;
        return true;
      }
    }
    return false;
  }

  outcome(): TransferOutcome {
    const soa = this.first!;
    if (this.form === undefined) return { kind: 'uptodate', serial: soa.data.serial };
    if (this.form === 'axfr') return { kind: 'axfr', soa, records: [soa, ...this.records] };
    return { kind: 'ixfr', soa, entries: this.entries };
  }
}

/**
 * AXFR, or IXFR from `serial`, over TCP. Every message is checked: ID, rcode, TSIG chain.
 * Throws XfrClientError (with the rcode when the server refused).
 */
export async function transferIn(remote: Remote, origin: Name, type: number, serial?: number, opts: TransferOptions = {}): Promise<TransferOutcome> {
  const authority: ResourceRecord[] = [];
  if (type === RRType.IXFR) {
    if (serial === undefined) throw new Error('IXFR needs our serial');
    authority.push({ name: origin, type: RRType.SOA, class: RRClass.IN, ttl: 0, data: { mname: Name.root, rname: Name.root, serial, refresh: 0, retry: 0, expire: 0, minimum: 0 } as SoaData });
  }
  const req = prepare(makeMessage({ question: [{ name: origin, type, class: RRClass.IN }], authority }), remote.key);
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const maxRecords = opts.maxRecords ?? 5_000_000;
  const stream = await FrameStream.open(remote, Math.min(timeoutMs, 10_000));
  const timer = setTimeout(() => stream.sock.destroy(new XfrClientError(`${remote.text}: transfer did not complete within ${timeoutMs} ms`)), timeoutMs);
  try {
    stream.send(req.wire);
    const reader = new TransferReader(type, serial);
    const verifier = remote.key ? new StreamVerifier(remote.key, req.mac!) : undefined;
    let count = 0;
    for (;;) {
      const raw = await stream.next();
      if (raw.length < 12 || ((raw[0]! << 8) | raw[1]!) !== req.id) throw new XfrClientError(`${remote.text}: answer with a foreign ID`);
      const msg = decodeMessage(raw);
      if (msg.rcode !== 0) {
        // An error answer to a signed request may be signed or carry an unsigned TSIG error.
        const t = readTsig(raw);
        throw new XfrClientError(`${remote.text}: transfer refused with rcode ${msg.rcode}${t?.error ? ` (TSIG error ${t.error})` : ''}`, msg.rcode);
      }
      verifier?.push(raw);
      let n = 0;
      for (const rr of msg.answer) {
        n++;
        if (++count > maxRecords) throw new XfrClientError(`${remote.text}: transfer exceeded ${maxRecords} records`);
        if (reader.push(rr)) break;
      }
      if (!reader.done) reader.endOfMessage(n);
      if (reader.done) {
        verifier?.finish();
        return reader.outcome();
      }
    }
  } catch (e) {
    if (e instanceof XfrClientError) throw e;
    throw new XfrClientError(`${remote.text}: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
    stream.close();
  }
}

/** The primary's SOA serial (UDP, then TCP when truncated is not needed: a SOA always fits). */
export async function querySoa(remote: Remote, origin: Name, timeoutMs = 2000): Promise<ResourceRecord<SoaData>> {
  const { message } = await exchangeUdp(remote, makeMessage({ question: [{ name: origin, type: RRType.SOA, class: RRClass.IN }] }), timeoutMs);
  if (message.rcode !== 0) throw new XfrClientError(`${remote.text}: SOA query answered with rcode ${message.rcode}`, message.rcode);
  if (!message.aa) throw new XfrClientError(`${remote.text}: not authoritative for ${origin}`);
  const soa = message.answer.find((r) => r.type === RRType.SOA && r.name.equals(origin));
  if (!soa) throw new XfrClientError(`${remote.text}: no SOA for ${origin} in the answer`);
  return soa as ResourceRecord<SoaData>;
}

/** Sends one NOTIFY (RFC 1996 §3.7) and waits for its answer; returns the rcode. */
export async function sendNotify(remote: Remote, origin: Name, soa: ResourceRecord | undefined, timeoutMs = 2000): Promise<number> {
  const msg = makeMessage({ opcode: Opcode.NOTIFY, aa: true, question: [{ name: origin, type: RRType.SOA, class: RRClass.IN }], answer: soa ? [soa] : [] });
  const { message } = await exchangeUdp(remote, msg, timeoutMs);
  if (message.opcode !== Opcode.NOTIFY) throw new XfrClientError(`${remote.text}: answer to NOTIFY has opcode ${message.opcode}`);
  return message.rcode;
}
