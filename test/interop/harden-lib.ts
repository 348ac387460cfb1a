// Helpers for the hardening tests: find a daemon's process, read its memory, open files and
// kernel drop counters from /proc, and run the Debian command-line clients (dig, kdig, nmap).
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { findBinary } from './harness/peers.js';
import { decodeMessage, type Message } from '../../src/wire/index.js';

/** Pid of the process whose command line contains `marker` (e.g. a daemon's temp dir). */
export function pidWithArg(marker: string): number | undefined {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cmd.includes(marker)) return Number(e);
    } catch { /* gone */ }
  }
  return undefined;
}

/** Resident set size in bytes (VmRSS from /proc/PID/status). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Open file descriptors of a process, and how many of them are sockets. */
export function openFiles(pid: number): { total: number; sockets: number } {
  let sockets = 0;
  const fds = readdirSync(`/proc/${pid}/fd`);
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch { /* closed meanwhile */ }
  }
  return { total: fds.length, sockets };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Datagrams the kernel dropped on the UDP socket bound to `address:port` (receive buffer full). */
export function udpDrops(address: string, port: number): number {
  const [a, b, c, d] = address.split('.').map(Number) as [number, number, number, number];
  // /proc/net/udp shows the address as a little-endian hex word on x86.
  const hexAddr = [d, c, b, a].map((x) => x.toString(16).padStart(2, '0')).join('').toUpperCase();
  const local = `${hexAddr}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local) return Number(f[f.length - 1]);
  }
  return 0;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with a hard timeout; never rejects (the exit code says what happened). */
export function run(cmd: string, args: string[], timeoutMs = 30000): Promise<RunResult> {
  const bin = findBinary(cmd) ?? cmd;
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** A UDP socket bound to a given loopback source address, with replies matched by message ID. */
export class UdpClient {
  private readonly waiting = new Map<number, { match?: (m: Message) => boolean; done: (m: Message) => void }>();
  /** Replies that matched nobody (answers to fire-and-forget packets). */
  unmatched = 0;
  constructor(readonly socket: Socket) {
    socket.on('message', (buf) => {
      let m: Message;
      try {
        m = decodeMessage(buf);
      } catch {
        this.unmatched++;
        return;
      }
      const w = this.waiting.get(m.id);
      if (w && (!w.match || w.match(m))) {
        this.waiting.delete(m.id);
        w.done(m);
      } else this.unmatched++;
    });
  }

  static async bind(address: string): Promise<UdpClient> {
    const s = createSocket('udp4');
    await new Promise<void>((res, rej) => {
      s.once('error', rej);
      s.bind(0, address, () => {
        s.off('error', rej);
        // Large buffers: a burst of replies must not be lost here while the test is busy sending.
        try {
          s.setRecvBufferSize(4 << 20);
          s.setSendBufferSize(4 << 20);
        } catch { /* capped by the kernel */ }
        res();
      });
    });
    return new UdpClient(s);
  }

  send(bytes: Uint8Array, port: number, address: string): Promise<void> {
    return new Promise((res) => this.socket.send(bytes, port, address, () => res()));
  }

  /**
   * Sends `bytes` (whose ID is `id`) and waits for the reply with that ID (and for which `match`
   * holds, when given); retries; undefined when none came.
   */
  async exchange(
    bytes: Uint8Array, id: number, port: number, address: string, timeoutMs = 1000, attempts = 3, match?: (m: Message) => boolean,
  ): Promise<Message | undefined> {
    for (let i = 0; i < attempts; i++) {
      const got = new Promise<Message | undefined>((res) => {
        const t = setTimeout(() => {
          this.waiting.delete(id);
          res(undefined);
        }, timeoutMs);
        this.waiting.set(id, {
          match,
          done: (m) => {
            clearTimeout(t);
            res(m);
          },
        });
      });
      this.socket.send(bytes, port, address);
      const m = await got;
      if (m) return m;
    }
    return undefined;
  }

  close(): Promise<void> {
    return new Promise((res) => this.socket.close(() => res()));
  }
}

/** Fixed-size text for counts in diagnostics: 1234567 -> "1,234,567". */
export function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/** The repository root (holds examples/), found upward from this compiled file. */
export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, 'examples', 'zones', 'example.test.zone')) && existsSync(join(d, 'package.json'))) return d;
    d = resolve(d, '..');
  }
  throw new Error('repository root not found');
}
