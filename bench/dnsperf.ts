// Runs dnsperf (DNS-OARC) against one server and reads its report. Throughput runs use the
// summary only; latency runs add -v and compute percentiles from the per-query lines, since
// dnsperf 2.x prints only mean and standard deviation.
import { spawn } from 'node:child_process';
import { findBinary } from './peers.js';

export interface DnsperfOptions {
  server: string;
  port: number;
  /** Query file in dnsperf's format. */
  file: string;
  /** Time limit (-l), seconds: every run is bounded. */
  seconds: number;
  /** Client sockets (-c) and queries outstanding (-q). */
  clients?: number;
  outstanding?: number;
  /** Rate limit in queries per second (-Q). */
  rate?: number;
  /** Run through the file at most this many times (-n). */
  maxRuns?: number;
  tcp?: boolean;
  edns?: boolean;
  /** Per-query timeout (-t), seconds (default 1). */
  timeout?: number;
  /** CPU list for taskset. */
  cpu?: string;
  /** Collect per-query latency (-v). */
  latencies?: boolean;
}

export interface DnsperfResult {
  sent: number;
  completed: number;
  lost: number;
  qps: number;
  runSeconds: number;
  avgLatencyMs: number;
  rcodes: Record<string, number>;
  /** Percentiles in ms over all queries sent, lost ones counted as the timeout. */
  p50Ms?: number;
  p99Ms?: number;
}

/** Reads dnsperf's "Statistics:" block. Throws when it is missing (dnsperf failed). */
export function parseDnsperf(text: string): DnsperfResult {
  const num = (re: RegExp): number => {
    const m = re.exec(text);
    if (!m) throw new Error(`dnsperf output lacks ${re.source}:\n${text.slice(-1500)}`);
    return Number(m[1]);
  };
  const rcodes: Record<string, number> = {};
  const rc = /Response codes:\s+(.*)/.exec(text);
  if (rc) for (const m of rc[1]!.matchAll(/([A-Z0-9]+) (\d+) \(/g)) rcodes[m[1]!] = Number(m[2]);
  return {
    sent: num(/Queries sent:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    runSeconds: num(/Run time \(s\):\s+([\d.]+)/),
    qps: num(/Queries per second:\s+([\d.]+)/),
    avgLatencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    rcodes,
  };
}

/** Latency in seconds from a `-v` line ("> NOERROR name type 0.000123"), else undefined. */
export function parseVerboseLine(line: string): number | undefined {
  if (!line.startsWith('> ')) return undefined;
  const sp = line.lastIndexOf(' ');
  const v = Number(line.slice(sp + 1));
  return Number.isFinite(v) ? v : undefined;
}

/** The p-th percentile (0..100) of ascending `sorted`, nearest-rank. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function dnsperfArgs(o: DnsperfOptions): string[] {
  const a = ['-s', o.server, '-p', String(o.port), '-d', o.file, '-l', String(o.seconds), '-t', String(o.timeout ?? 1)];
  a.push('-c', String(o.clients ?? 4), '-q', String(o.outstanding ?? 200));
  if (o.rate) a.push('-Q', String(o.rate));
  if (o.maxRuns) a.push('-n', String(o.maxRuns));
  if (o.tcp) a.push('-m', 'tcp');
  if (o.edns) a.push('-e');
  if (o.latencies) a.push('-v');
  return a;
}

export function runDnsperf(o: DnsperfOptions): Promise<DnsperfResult> {
  const bin = findBinary('dnsperf');
  if (!bin) return Promise.reject(new Error('dnsperf not installed (scripts/install-peers.sh installs it)'));
  const args = dnsperfArgs(o);
  const [cmd, full] = o.cpu !== undefined && findBinary('taskset') ? [findBinary('taskset')!, ['-c', o.cpu, bin, ...args]] : [bin, args];
  const child = spawn(cmd, full, { stdio: ['ignore', 'pipe', 'pipe'] });
  let summary = '';
  let partial = '';
  let inStats = false;
  const lat: number[] = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    // Per-query lines are many: keep only their numbers, and the text from "Statistics:" on.
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (inStats) summary += line + '\n';
      else if (line.startsWith('Statistics:')) { inStats = true; summary += line + '\n'; }
      else if (o.latencies) {
        const v = parseVerboseLine(line);
        if (v !== undefined) lat.push(v);
      }
    }
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => { if (err.length < 8192) err += d.toString(); });
  // dnsperf stops itself after -l; this only guards against a hung process.
  const guard = setTimeout(() => child.kill('SIGKILL'), (o.seconds + (o.timeout ?? 1) + 30) * 1000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(guard);
      summary += partial;
      try {
        const r = parseDnsperf(summary);
        if (o.latencies) {
          const timeout = (o.timeout ?? 1);
          const all = Float64Array.from(lat);
          all.sort();
          // Lost queries are the slowest of all: count them at the timeout.
          const withLost = new Float64Array(all.length + r.lost);
          withLost.set(all);
          withLost.fill(timeout, all.length);
          r.p50Ms = percentile(withLost, 50) * 1000;
          r.p99Ms = percentile(withLost, 99) * 1000;
        }
        resolve(r);
      } catch (e) {
        reject(new Error(`${(e as Error).message}\n${err}`));
      }
    });
  });
}
