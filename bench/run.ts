// `npm run bench [-- --quick] [--only codec,auth,resolver,load,workers] [--servers a,b] [--seconds N]
//  [--out DIR] [--cpu-prof]`: Portcullis beside NSD, Knot, BIND and PowerDNS (authoritative) and
// beside Unbound, PowerDNS Recursor and Knot Resolver (cached recursion), one server loaded at a
// time, each on one worker pinned to CPU 0 with dnsperf pinned to CPU 1 (latency in rounds with
// every server of the group up, see measureLatency). Writes report.md,
// report.json, qps.svg and per-cpu.svg to bench/results/ (or --out) and prints the Markdown.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateZone, GEN_ORIGIN } from './gen-zone.js';
import { generateQueries, toDnsperfInput, QUERY_MIX } from './queries.js';
import { findBinary, MissingPeer, probe, startAuth, startResolver, type AuthName, type ResolverName, type Running } from './peers.js';
import { runDnsperf, type DnsperfOptions } from './dnsperf.js';
import { cpuSeconds, memory, minorFaults } from './proc.js';
import { timeAxfr } from './axfr.js';
import { benchCodec, benchParse } from './codec.js';
import { summariseProfileFile } from './profile.js';
import { toMarkdown, toSvg, withRatios, type BenchReport, type LoadRun, type ServerRun } from './report.js';

export interface BenchOptions {
  quick: boolean;
  only: Set<string>;
  servers: Set<string> | undefined;
  seconds: number;
  out: string;
  cpuProf: boolean;
}

export function parseArgs(argv: readonly string[]): BenchOptions {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    if (i >= 0) return argv[i + 1];
    const eq = argv.find((a) => a.startsWith(`${flag}=`));
    return eq?.slice(flag.length + 1);
  };
  const quick = argv.includes('--quick');
  const list = (v: string | undefined): Set<string> | undefined => (v ? new Set(v.split(',').map((s) => s.trim()).filter(Boolean)) : undefined);
  const seconds = Number(get('--seconds') ?? (quick ? 2 : 10));
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error('--seconds must be a positive number');
  return {
    quick,
    only: list(get('--only')) ?? new Set(['codec', 'auth', 'resolver', 'load', 'workers']),
    servers: list(get('--servers')),
    seconds,
    out: resolve(get('--out') ?? join('bench', 'results')),
    cpuProf: argv.includes('--cpu-prof'),
  };
}

const SERVER_CPU = '0';
const LOAD_CPU = '1';
const LATENCY_RATE = 50_000;
const BENCH_RECORDS = 11_000; // gen-zone: 10,000 hosts
const QUERY_COUNT = 100_000;

const AUTH: ReadonlyArray<{ name: AuthName; address: string; port: number; binary?: string }> = [
  { name: 'portcullis', address: '127.0.0.60', port: 16101 },
  { name: 'nsd', address: '127.0.0.61', port: 16101, binary: 'nsd' },
  { name: 'knot', address: '127.0.0.62', port: 16101, binary: 'knotd' },
  // named listens only on addresses configured on an interface: 127.0.0.1, on a port of ours.
  { name: 'bind', address: '127.0.0.1', port: 16104, binary: 'named' },
  { name: 'pdns', address: '127.0.0.64', port: 16101, binary: 'pdns_server' },
];
const RESOLVERS: ReadonlyArray<{ name: ResolverName; address: string; port: number; binary?: string }> = [
  { name: 'portcullis', address: '127.0.0.65', port: 16121 },
  { name: 'unbound', address: '127.0.0.66', port: 16121, binary: 'unbound' },
  { name: 'pdns-recursor', address: '127.0.0.67', port: 16121, binary: 'pdns_recursor' },
  { name: 'knot-resolver', address: '127.0.0.69', port: 16121, binary: 'kresd' },
];
const UPSTREAM = { address: '127.0.0.68', port: 16130 };
const LOAD_PORT = 16140;
const WORKERS_PORT = 16150;

const log = (msg: string): void => console.error(`[bench] ${msg}`);
const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/** Runs the throughput and TCP measurements against a running server (latency: latencyRounds). */
async function measure(s: Running, file: string, o: BenchOptions, pinned: boolean): Promise<ServerRun> {
  const base: DnsperfOptions = { server: s.address, port: s.port, file, seconds: 1, clients: 4, outstanding: 200, cpu: pinned ? LOAD_CPU : undefined };
  // Warm-up: JIT, caches, socket buffers. A JIT-compiled server (Portcullis) needs a few
  // seconds to reach its steady state; every server gets the same warm-up.
  await runDnsperf({ ...base, seconds: warmupSeconds(o) });
  const c0 = cpuSeconds(s.pid);
  const t0 = performance.now();
  const thr = await runDnsperf({ ...base, seconds: o.seconds });
  const cpu = (cpuSeconds(s.pid) - c0) / ((performance.now() - t0) / 1000);
  const tcp = await runDnsperf({ ...base, seconds: Math.max(2, Math.round(o.seconds / 2)), tcp: true, clients: 8, outstanding: 400 });
  return {
    server: s.name, qps: thr.qps, lostPct: thr.sent ? (100 * thr.lost) / thr.sent : 0, avgMs: thr.avgLatencyMs,
    cpu, perCpuSecond: cpu > 0 ? thr.qps / cpu : undefined, tcpQps: tcp.qps,
    note: Object.entries(thr.rcodes).map(([k, v]) => `${k} ${v}`).join(', '),
  };
}

/** Latency rounds: 3 with --quick, else 5. */
function latencyRounds(o: BenchOptions): number {
  return o.quick ? 3 : 5;
}

/** Seconds each server is measured per latency round: 1 with --quick, else 2. */
function latencySeconds(o: BenchOptions): number {
  return o.quick ? 1 : 2;
}

/**
 * Latency at LATENCY_RATE, in rounds: every server is up (idle but one), and each round loads
 * each server in turn for latencySeconds(o), starting one server later every round. On a machine
 * shared with other work a stall of a few milliseconds moves one run's p99 by a millisecond or
 * more; interleaved rounds spread such stalls over every server, and the median of the rounds
 * drops the worst. Sets p50Ms/p99Ms (medians) and p99Rounds on each run.
 */
async function measureLatency(servers: ReadonlyArray<{ s: Running; run: ServerRun }>, file: string, o: BenchOptions, pinned: boolean): Promise<void> {
  const rounds = latencyRounds(o);
  const p50: number[][] = servers.map(() => []);
  const p99: number[][] = servers.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < servers.length; k++) {
      const i = (k + round) % servers.length;
      const { s } = servers[i]!;
      const base: DnsperfOptions = { server: s.address, port: s.port, file, seconds: 1, clients: 4, outstanding: 200, rate: LATENCY_RATE, cpu: pinned ? LOAD_CPU : undefined };
      // A second at the same rate first: the server was idle while the others were loaded.
      await runDnsperf(base);
      const lat = await runDnsperf({ ...base, seconds: latencySeconds(o), latencies: true });
      if (lat.p50Ms !== undefined) p50[i]!.push(lat.p50Ms);
      if (lat.p99Ms !== undefined) p99[i]!.push(lat.p99Ms);
    }
  }
  servers.forEach(({ run }, i) => {
    run.p50Ms = median(p50[i]!);
    run.p99Ms = median(p99[i]!);
    run.p99Rounds = p99[i]!.map((v) => Math.round(v * 1000) / 1000);
    run.latencyRate = LATENCY_RATE;
    log(`${run.server}: p99 ${run.p99Ms?.toFixed(3)} ms at ${LATENCY_RATE} qps (median of ${p99[i]!.length}: ${run.p99Rounds.join(', ')})`);
  });
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** The Portcullis CLI to measure: $PORTCULLIS_BIN (to compare two builds), else this build's. */
function cliPath(): string {
  // <outDir>/bench/run.js -> <outDir>/src/cli/main.js
  return process.env.PORTCULLIS_BIN ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
}

/** True, with the server recorded as skipped, when its `binary` is not installed. */
function skipMissing<T extends { server: string; skipped?: string }>(server: string, binary: string | undefined, runs: T[]): boolean {
  if (!binary || findBinary(binary)) return false;
  runs.push({ server, skipped: `${binary} not installed` } as T);
  log(`${server}: skipped (${binary} not installed)`);
  return true;
}

/**
 * Starts a server with `start` (which stops it itself if it fails after starting), measures it
 * and keeps it in `up` for the latency rounds; a failure is recorded in `runs` as skipped and
 * the server stopped.
 */
async function measureKeptUp(
  name: string, start: () => Promise<Running>, qfile: string, o: BenchOptions, pinned: boolean,
  runs: ServerRun[], up: Array<{ s: Running; run: ServerRun }>,
): Promise<ServerRun | undefined> {
  let s: Running | undefined;
  try {
    s = await start();
    const r = await measure(s, qfile, o, pinned);
    runs.push(r);
    up.push({ s, run: r });
    s = undefined;
    return r;
  } catch (e) {
    runs.push({ server: name, skipped: firstLine(e) });
    log(`${name}: failed: ${e instanceof Error ? e.message : e}`);
    return undefined;
  } finally {
    await s?.stop();
  }
}

async function benchAuth(o: BenchOptions, zone: string, qfile: string, pinned: boolean, notes: string[]): Promise<ServerRun[]> {
  const runs: ServerRun[] = [];
  // Servers stay up until the latency rounds are done (each idle while another is measured).
  const up: Array<{ s: Running; run: ServerRun }> = [];
  const profDir = join(o.out, 'profile');
  try {
    for (const a of AUTH) {
      if (o.servers && !o.servers.has(a.name)) continue;
      if (skipMissing(a.name, a.binary, runs)) continue;
      const nodeArgs = o.cpuProf && a.name === 'portcullis' ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
      const r = await measureKeptUp(a.name, async () => {
        if (nodeArgs.length) rmSync(profDir, { recursive: true, force: true });
        const s = await startAuth(a.name, { origin: GEN_ORIGIN, file: zone, address: a.address, port: a.port, cpu: pinned ? SERVER_CPU : undefined, requireNoError: true }, { cli: cliPath(), nodeArgs });
        log(`${a.name}: up on ${a.address}:${a.port} (pid ${s.pid}); measuring`);
        return s;
      }, qfile, o, pinned, runs, up);
      if (r) log(`${a.name}: ${Math.round(r.qps ?? 0)} qps (${Math.round((r.cpu ?? 0) * 100)}% CPU, ${Math.round(r.perCpuSecond ?? 0)} per CPU-s), TCP ${Math.round(r.tcpQps ?? 0)} qps`);
    }
    if (up.length) await measureLatency(up, qfile, o, pinned);
  } finally {
    for (const { s } of up) await s.stop();
  }
  if (o.cpuProf) {
    const prof = existsSync(profDir) ? readdirSync(profDir).find((f) => f.endsWith('.cpuprofile')) : undefined;
    if (prof) {
      notes.push(`CPU profile of Portcullis (authoritative run, self time): ${summariseProfileFile(join(profDir, prof), 12).map((h) => `${(h.share * 100).toFixed(1)}% ${h.where}`).join('; ')}`);
    }
  }
  return withRatios(runs);
}

async function benchResolvers(o: BenchOptions, zone: string, qfile: string, pinned: boolean, notes: string[]): Promise<ServerRun[]> {
  const runs: ServerRun[] = [];
  if (!findBinary('nsd')) {
    notes.push('cached resolvers: not measured, the upstream authoritative (NSD) is not installed');
    return runs;
  }
  let upstream: Running | undefined;
  const up: Array<{ s: Running; run: ServerRun }> = [];
  try {
    // The upstream shares the load generator's core: after warm-up it sees no queries.
    upstream = await startAuth('nsd', { origin: GEN_ORIGIN, file: zone, ...UPSTREAM, cpu: pinned ? LOAD_CPU : undefined, requireNoError: true });
    for (const r of RESOLVERS) {
      if (o.servers && !o.servers.has(r.name)) continue;
      if (skipMissing(r.name, r.binary, runs)) continue;
      const m = await measureKeptUp(r.name, async () => {
        const s = await startResolver(r.name, { origin: GEN_ORIGIN, address: r.address, port: r.port, cpu: pinned ? SERVER_CPU : undefined, upstream: UPSTREAM }, { cli: cliPath() });
        try {
          // A resolver that cannot reach the upstream (or does not recurse yet) is not measured.
          const rcode = await probe(r.address, r.port, `h0.${GEN_ORIGIN}`, 1, true, 2000);
          if (rcode !== 0) throw new Error(`answers h0.${GEN_ORIGIN} A with rcode ${rcode}: recursion not available`);
          log(`${r.name}: up on ${r.address}:${r.port}; warming the cache`);
          // One pass over the query file at a modest rate fills the cache (positive and negative).
          await runDnsperf({ server: r.address, port: r.port, file: qfile, seconds: 60, maxRuns: 1, rate: 30_000, clients: 4, outstanding: 200, cpu: pinned ? LOAD_CPU : undefined, timeout: 2 });
        } catch (e) {
          await s.stop();
          throw e;
        }
        return s;
      }, qfile, o, pinned, runs, up);
      if (m) log(`${r.name}: ${Math.round(m.qps ?? 0)} qps`);
    }
    if (up.length) await measureLatency(up, qfile, o, pinned);
  } finally {
    for (const { s } of up) await s.stop();
    await upstream?.stop();
  }
  return withRatios(runs);
}

async function benchLoad(o: BenchOptions, dir: string, pinned: boolean, notes: string[]): Promise<LoadRun[]> {
  const records = o.quick ? 100_000 : 1_000_000;
  const file = join(dir, `load-${records}.zone`);
  const written = await generateZone(file, records);
  log(`zone load: ${written} records`);
  const runs: LoadRun[] = [];
  for (const a of AUTH) {
    if (a.name === 'pdns') continue; // the bind backend is not the loader operators compare
    if (o.servers && !o.servers.has(a.name)) continue;
    if (skipMissing(a.name, a.binary, runs)) continue;
    let s: Running | undefined;
    try {
      s = await startAuth(a.name, { origin: GEN_ORIGIN, file, address: a.address, port: LOAD_PORT, cpu: pinned ? SERVER_CPU : undefined, readyTimeoutMs: 600_000, requireNoError: true }, { cli: cliPath() });
      const cpuToAnswer = cpuSeconds(s.pid);
      const faultsToAnswer = minorFaults(s.pid);
      // Let lazy structures settle, as an operator would see the server a moment after start.
      await new Promise((r) => setTimeout(r, 1000));
      const mem = memory(s.pid);
      const run: LoadRun = { server: a.name, records: written, loadSeconds: s.startMs / 1000, cpuSeconds: cpuToAnswer, minorFaults: faultsToAnswer, pssBytes: mem.pss, rssBytes: mem.rss };
      try {
        const x = await timeAxfr(s.address, s.port, GEN_ORIGIN, o.quick ? 60_000 : 300_000);
        run.axfrSeconds = x.seconds;
        if (x.records < written) run.axfrNote = `${x.records} records`;
      } catch (e) {
        run.axfrNote = `not measured (${firstLine(e)})`;
      }
      runs.push(run);
      log(`${a.name}: loaded in ${run.loadSeconds!.toFixed(2)} s, PSS ${(mem.pss / 1e6).toFixed(0)} MB, AXFR ${run.axfrSeconds?.toFixed(2) ?? run.axfrNote}`);
    } catch (e) {
      runs.push({ server: a.name, skipped: firstLine(e) });
      log(`${a.name}: failed: ${e instanceof Error ? e.message : e}`);
    } finally {
      await s?.stop();
    }
  }
  const ours = runs.find((r) => r.server === 'portcullis');
  if (ours?.axfrNote) notes.push(`AXFR-out: Portcullis ${ours.axfrNote}.`);
  return runs;
}

/** In-process codec rates, then our zone parse beside named-checkzone on one generated file. */
async function benchCodecAndParse(o: BenchOptions, dir: string): Promise<BenchReport['codec']> {
  const messages = benchCodec(o.quick ? 0.2 : 1);
  for (const m of messages) log(`codec: ${m.message}: ${m.decodesPerCpuSecond} decodes, ${m.encodesPerCpuSecond} encodes per CPU-s`);
  const records = o.quick ? 100_000 : 1_000_000;
  const file = join(dir, `parse-${records}.zone`);
  const written = await generateZone(file, records);
  const parse = await benchParse(file, written);
  for (const p of parse) log(`parse: ${p.tool}: ${p.records} records in ${p.cpuSeconds.toFixed(2)} CPU s`);
  rmSync(file, { force: true });
  return { messages, parse };
}

/** Seconds of load before a measurement: 3, or 2 with --quick. */
function warmupSeconds(o: BenchOptions): number {
  return o.quick ? 2 : 3;
}

async function benchWorkers(o: BenchOptions, zone: string, qfile: string): Promise<BenchReport['workers']> {
  const note = 'Measured unpinned: this machine has two cores and dnsperf needs one, so the two workers share the cores with the load generator; the qps ratio shows scaling under that contention, not the ≥1.8× the target asks for with two free cores. Queries per CPU-second (all processes of the server) say whether a second worker costs efficiency: at an equal figure, two free cores would give twice the queries.';
  if (o.servers && !o.servers.has('portcullis')) return undefined;
  const qps: number[] = [];
  const perCpu: number[] = [];
  for (const workers of [1, 2]) {
    let s: Running | undefined;
    try {
      s = await startAuth('portcullis', { origin: GEN_ORIGIN, file: zone, address: '127.0.0.60', port: WORKERS_PORT }, { cli: cliPath(), workers });
      await runDnsperf({ server: s.address, port: s.port, file: qfile, seconds: warmupSeconds(o), clients: 4, outstanding: 200 });
      const c0 = cpuSeconds(s.pid);
      const r = await runDnsperf({ server: s.address, port: s.port, file: qfile, seconds: o.seconds, clients: 4, outstanding: 200 });
      const cpu = cpuSeconds(s.pid) - c0;
      qps.push(r.qps);
      perCpu.push(cpu > 0 ? r.completed / cpu : 0);
      log(`workers: ${workers} → ${Math.round(r.qps)} qps, ${Math.round(perCpu[perCpu.length - 1]!)} queries per CPU-s`);
    } catch (e) {
      log(`workers ${workers}: failed: ${firstLine(e)}`);
      return { note: `not measured: ${firstLine(e)}` };
    } finally {
      await s?.stop();
    }
  }
  return { one: qps[0], two: qps[1], ratio: qps[1]! / qps[0]!, perCpuOne: perCpu[0], perCpuTwo: perCpu[1], perCpuRatio: perCpu[1]! / perCpu[0]!, note };
}

export async function main(argv: readonly string[]): Promise<number> {
  const o = parseArgs(argv);
  const started = new Date();
  if (!findBinary('dnsperf')) {
    console.error('dnsperf is not installed (scripts/install-peers.sh installs it): nothing to measure');
    return 2;
  }
  const ncpu = cpus().length;
  const pinned = ncpu >= 2 && findBinary('taskset') !== undefined;
  const notes: string[] = [];
  if (!pinned) notes.push(`not pinned: ${ncpu < 2 ? 'fewer than two CPUs' : 'taskset missing'}; server and load generator share the CPUs`);
  mkdirSync(o.out, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  try {
    const zone = join(dir, 'bench.zone');
    await generateZone(zone, BENCH_RECORDS);
    const qfile = join(dir, 'queries.txt');
    writeFileSync(qfile, toDnsperfInput(generateQueries(BENCH_RECORDS, QUERY_COUNT)));
    const rfile = join(dir, 'resolver-queries.txt');
    writeFileSync(rfile, toDnsperfInput(generateQueries(BENCH_RECORDS, QUERY_COUNT, { exclude: ['referral'] })));
    const report: BenchReport = {
      started: started.toISOString(), quick: o.quick,
      machine: { cpus: ncpu, model: cpus()[0]?.model ?? '?', node: process.versions.node, kernel: release() },
      method: [
        `One worker/thread per server, ${pinned ? `pinned to CPU ${SERVER_CPU} with taskset; dnsperf pinned to CPU ${LOAD_CPU}` : 'unpinned'}.`,
        `Zone: gen-zone.ts, ${BENCH_RECORDS} records (10,000 hosts: A, AAAA, MX, TXT, CNAME, SRV, delegations with glue). Queries: queries.ts, ${QUERY_COUNT} lines, mix ${Object.entries(QUERY_MIX).map(([k, v]) => `${k} ${v}%`).join(', ')}; 5% of names in mixed case.`,
        `Throughput: dnsperf -c 4 -q 200 for ${o.seconds} s after a ${warmupSeconds(o)} s warm-up; server CPU = its CPU seconds ÷ wall seconds. Latency: every server up (all idle but the one measured), ${latencyRounds(o)} rounds of dnsperf -Q ${LATENCY_RATE} -v for ${latencySeconds(o)} s per server, each after 1 s at that rate, the order rotated each round; p50 and p99 over every query sent (lost ones count as the 1 s timeout), and the median of the rounds reported. TCP: dnsperf -m tcp -c 8 -q 400 (queries pipelined on each connection).`,
        'Cached resolvers: the zone is served by NSD on loopback; each resolver forwards the zone to it (RD set; outgoing queries bound to its loopback address), the cache is warmed by one pass over the query file at 30k qps, then measured like the authoritative servers. Their mix leaves out the referrals (the glue addresses are not on loopback).',
        'The CPUs are shared with other work on this machine: numbers are noisy; compare within one run.',
      ],
      authoritative: [], resolver: [], load: [], notes,
    };
    if (o.only.has('codec')) report.codec = await benchCodecAndParse(o, dir);
    if (o.only.has('auth')) report.authoritative = await benchAuth(o, zone, qfile, pinned, notes);
    if (o.only.has('resolver')) report.resolver = await benchResolvers(o, zone, rfile, pinned, notes);
    if (o.only.has('load')) report.load = await benchLoad(o, dir, pinned, notes);
    if (o.only.has('workers')) report.workers = await benchWorkers(o, zone, qfile);
    const md = toMarkdown(report);
    writeFileSync(join(o.out, 'report.md'), md);
    writeFileSync(join(o.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
    const groups = [
      { title: 'Authoritative', runs: report.authoritative },
      { title: 'Cached resolver', runs: report.resolver },
    ].filter((g) => g.runs.length);
    writeFileSync(join(o.out, 'qps.svg'), toSvg(groups));
    writeFileSync(join(o.out, 'per-cpu.svg'), toSvg(groups, 'perCpuSecond'));
    console.log(md);
    log(`report written to ${o.out} (report.md, report.json, qps.svg, per-cpu.svg) in ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s`);
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const isMain = process.argv[1]?.endsWith(join('bench', 'run.js'));
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e instanceof MissingPeer ? e.message : e);
      process.exit(2);
    },
  );
}
