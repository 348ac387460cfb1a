// Test support for the server/transport tests: queries built with our own encoder, sent over
// UDP/TCP on loopback, and a child-process runner for `portcullis serve`.
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { decodeMessage, encodeMessage, makeMessage, Name, RRClass, typeFromString, type Edns, type Message } from '../../src/wire/index.js';

export const here = dirname(fileURLToPath(import.meta.url));
/** The compiled tree's root (dist/ or .build/NAME/), and the repository root. */
export const buildRoot = resolve(here, '../..');
export const repoRoot = resolve(buildRoot, buildRoot.includes('/.build/') ? '../..' : '..');
export const mainJs = join(buildRoot, 'src/cli/main.js');

export interface QueryInit {
  id?: number;
  rd?: boolean;
  cls?: number;
  opcode?: number;
  edns?: Partial<Edns> | false;
}

let nextId = 1;
export function queryMessage(name: string, type: string, init: QueryInit = {}): Message {
  const edns = init.edns === undefined || init.edns === false
    ? undefined
    : { udpSize: 1232, version: 0, do: false, z: 0, options: [], ...init.edns };
  return makeMessage({
    id: init.id ?? (nextId++ & 0xffff),
    rd: init.rd ?? false,
    opcode: init.opcode ?? 0,
    question: [{ name: Name.parse(name), type: typeFromString(type)!, class: init.cls ?? RRClass.IN }],
    edns,
  });
}

export function query(name: string, type: string, init: QueryInit = {}): Uint8Array {
  return encodeMessage(queryMessage(name, type, init));
}

/** One UDP exchange; rejects after `timeoutMs` without an answer (a liveness guard, not a speed test). */
export function udpExchange(port: number, wire: Uint8Array, host = '127.0.0.1', timeoutMs = 3000): Promise<{ msg: Message; size: number }> {
  return new Promise((resolvePromise, reject) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error(`no UDP answer from ${host}:${port}`));
    }, timeoutMs);
    s.on('message', (buf) => {
      clearTimeout(t);
      s.close();
      try {
        resolvePromise({ msg: decodeMessage(buf), size: buf.length });
      } catch (e) {
        reject(e);
      }
    });
    s.send(wire, port, host);
  });
}

/** Sends a datagram and reports whether anything came back within `waitMs`. */
export function udpSilence(port: number, wire: Uint8Array, waitMs = 300, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      resolvePromise(true);
    }, waitMs);
    s.on('message', () => {
      clearTimeout(t);
      s.close();
      resolvePromise(false);
    });
    s.send(wire, port, host);
  });
}

/** A TCP client speaking RFC 1035 §4.2.2 framing. */
export class TcpClient {
  private buf = Buffer.alloc(0);
  private waiters: Array<(m: Buffer) => void> = [];
  private frames: Buffer[] = [];
  closed = false;
  private closeWaiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      while (this.buf.length >= 2) {
        const len = this.buf.readUInt16BE(0);
        if (this.buf.length < 2 + len) break;
        const f = this.buf.subarray(2, 2 + len);
        this.buf = this.buf.subarray(2 + len);
        const w = this.waiters.shift();
        if (w) w(f);
        else this.frames.push(f);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.closeWaiters.splice(0)) w();
    });
  }

  static open(port: number, host = '127.0.0.1'): Promise<TcpClient> {
    return new Promise((res, rej) => {
      const s = connect({ port, host });
      s.once('error', rej);
      s.once('connect', () => {
        s.off('error', rej);
        res(new TcpClient(s));
      });
    });
  }

  send(wire: Uint8Array): void {
    const out = Buffer.alloc(wire.length + 2);
    out.writeUInt16BE(wire.length, 0);
    out.set(wire, 2);
    this.socket.write(out);
  }

  sendRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  read(timeoutMs = 5000): Promise<Message> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(decodeMessage(f));
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error('no TCP answer')), timeoutMs);
      this.waiters.push((m) => {
        clearTimeout(t);
        try {
          res(decodeMessage(m));
        } catch (e) {
          rej(e);
        }
      });
    });
  }

  /** Resolves true when the server closes the connection within `timeoutMs`. */
  waitClosed(timeoutMs: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((res) => {
      const t = setTimeout(() => res(false), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        res(true);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A `portcullis serve` child process; `ready` resolves with the parsed ready line. */
export interface ServeChild {
  proc: ChildProcess;
  ready: Promise<Record<string, unknown>>;
  /** Every stderr line so far. */
  lines: string[];
  /** Resolves when a log line matching `pred` appears. */
  waitFor(pred: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startServe(args: string[], opts: { cwd?: string; command?: string[] } = {}): ServeChild {
  const cmd = opts.command ?? [process.execPath, mainJs];
  const proc = spawn(cmd[0]!, [...cmd.slice(1), ...args], { cwd: opts.cwd ?? repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const watchers: Array<{ pred: (l: string) => boolean; done: (l: string) => void }> = [];
  let partial = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (chunk: string) => {
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      lines.push(line);
      for (const w of [...watchers]) if (w.pred(line)) {
        watchers.splice(watchers.indexOf(w), 1);
        w.done(line);
      }
    }
  });
  proc.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.on('exit', (code, signal) => res({ code, signal })));
  const waitFor = (pred: (l: string) => boolean, timeoutMs = 15000): Promise<string> => {
    const seen = lines.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error(`log line not seen; log so far:\n${lines.join('\n')}`)), timeoutMs);
      const w = { pred, done: (l: string) => { clearTimeout(t); res(l); } };
      watchers.push(w);
      void exited.then(() => {
        if (watchers.includes(w)) {
          clearTimeout(t);
          rej(new Error(`server exited before the line appeared; log:\n${lines.join('\n')}`));
        }
      });
    });
  };
  const ready = waitFor((l) => l.includes('"msg":"ready"')).then((l) => JSON.parse(l) as Record<string, unknown>);
  // Tests that expect the server to fail never await `ready`; its rejection is not an error then.
  ready.catch(() => undefined);
  return { proc, ready, lines, waitFor, exited };
}

export function runCli(args: string[], cwd = repoRoot): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [mainJs, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('exit', (code) => res({ code, stdout, stderr }));
  });
}

/** The conformance folder (read-only third-party data), per CONTRACT/brief. */
export const conformanceDir = process.env.PORTCULLIS_CONFORMANCE ?? resolve(repoRoot, '../shared/conformance');
