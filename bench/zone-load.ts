// Zone load time and peak memory, Portcullis against the peers, on one generated file:
//   node dist/bench/zone-load.js [N] [--keep DIR] [--only a,b]
// Steps for --only: parse, check, load, array, named-checkzone, knotc, nsd-checkzone, knotd, nsd,
// serve (also spelled portcullis).
// N records (default 1,000,000, bench/gen-zone.ts). Every step runs in its own process, so
// each peak RSS is that step's alone:
//   parse        readZoneFile, records counted and dropped (the parser on its own)
//   check        parse + checkZone with every record held (what `portcullis check-zone` does)
//   load         loadZoneFile: the parse streamed into the tree, checks on the tree (what
//                `portcullis serve` does for an unsigned zone)
//   array        the older path: parse into an array, buildZone, checkBuiltZone, records dropped
//   named-checkzone -i local, knotc zone-check (offline), nsd-checkzone: the peers' checkers
//   knotd, nsd, portcullis serve: the daemons, from spawn to the first answer for the SOA;
//                memory as PSS of the process tree a second later and the largest VmHWM in it
// CPU seconds (user + system) are printed beside wall time: on a machine shared with other
// work they move much less than wall time.
// Bounded: every step has a time limit (10 minutes) and the daemons listen on 127.0.0.1 only.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Name, type ResourceRecord } from '../src/wire/index.js';
import { readZoneFile, RecordPositions } from '../src/zone/parser.js';
import { checkBuiltZone, checkZone } from '../src/zone/checks.js';
import { buildZone } from '../src/zone/zone.js';
import { loadZoneFile } from '../src/zone/checks-load.js';
import { generateZone, GEN_ORIGIN } from './gen-zone.js';
import { findBinary, startAuth, type AuthName } from './peers.js';
import { cpuSeconds, memory, processTree } from './proc.js';

const LIMIT_MS = 600_000;
const PORT = 25_390;

interface Row {
  step: string;
  seconds?: number;
  /** User + system CPU seconds: steadier than wall time on a shared machine. */
  cpu?: number;
  peakMB?: number;
  residentMB?: number;
  note: string;
}

const mb = (bytes: number): number => Math.round(bytes / 1048576);
const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

/** One of our steps, run inside a child process; prints one JSON line. */
async function child(step: string, file: string): Promise<void> {
  const origin = Name.parse(GEN_ORIGIN);
  const t0 = performance.now();
  const parts: string[] = [];
  let mark = t0;
  const lap = (what: string): void => {
    const now = performance.now();
    parts.push(`${what} ${((now - mark) / 1000).toFixed(2)}`);
    mark = now;
  };
  let note = '';
  if (step === 'parse') {
    let n = 0;
    for await (const _ of readZoneFile(file, { origin })) n++;
    note = `${n} records`;
  } else if (step === 'check') {
    // Positions in a table, as check-zone keeps them (findings say FILE:LINE:COL).
    const positions = new RecordPositions();
    const records: ResourceRecord[] = [];
    for await (const rr of readZoneFile(file, { origin, positions })) records.push(rr);
    lap('parse');
    const r = checkZone(origin, records, { position: positions.get });
    lap('check');
    note = `${r.records.length} records, ${r.errors.length} errors, ${r.warnings.length} warnings (s: ${parts.join(', ')})`;
  } else if (step === 'array') {
    // The older server path: every record held in an array, then the tree, then the checks.
    let positions: RecordPositions | undefined = new RecordPositions();
    let records: ResourceRecord[] = [];
    for await (const rr of readZoneFile(file, { origin, positions })) records.push(rr);
    lap('parse');
    const zone = buildZone(origin, records);
    lap('build');
    const r = checkBuiltZone(zone, records, { position: positions.get });
    lap('check');
    records = [];
    positions = undefined;
    note = `${zone.recordCount} records, ${zone.nodeCount} names, ${r.errors.length} errors, ${r.warnings.length} warnings (s: ${parts.join(', ')})`;
  } else {
    // What `portcullis serve` does: records streamed into the tree, checks on the tree.
    const r = await loadZoneFile(origin, file);
    lap('load');
    note = `${r.zone?.recordCount ?? 0} records, ${r.zone?.nodeCount ?? 0} names, ${r.errors.length} errors, ${r.warnings.length} warnings (s: ${parts.join(', ')})`;
  }
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage();
  const cpu = (used.user + used.system) / 1e6;
  global.gc?.();
  const resident = process.memoryUsage().rss;
  process.stdout.write(JSON.stringify({ seconds, cpu, peak: peakRss(), resident, note }) + '\n');
}

function ours(step: string, file: string): Row {
  const res = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', step, file], { encoding: 'utf8', timeout: LIMIT_MS });
  const line = res.stdout?.trim().split('\n').pop() ?? '';
  try {
    const o = JSON.parse(line) as { seconds: number; cpu: number; peak: number; resident: number; note: string };
    return { step: `portcullis ${step}`, seconds: o.seconds, cpu: o.cpu, peakMB: mb(o.peak), residentMB: mb(o.resident), note: o.note };
  } catch {
    return { step: `portcullis ${step}`, note: `failed: ${(res.error?.message ?? res.stderr ?? '').slice(0, 200)}` };
  }
}

/** A peer's checker under /usr/bin/time (elapsed seconds and max RSS), bounded in time. */
function checker(step: string, binary: string, args: string[]): Row {
  const path = findBinary(binary);
  if (!path) return { step, note: `${binary} not installed` };
  const time = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  const t0 = performance.now();
  const res = time
    ? spawnSync(time, ['-f', '@@%e %M %U %S', path, ...args], { encoding: 'utf8', timeout: LIMIT_MS, maxBuffer: 1 << 26 })
    : spawnSync(path, args, { encoding: 'utf8', timeout: LIMIT_MS, maxBuffer: 1 << 26 });
  const seconds = (performance.now() - t0) / 1000;
  if (res.error) return { step, note: `not run: ${res.error.message}` };
  const m = /@@([0-9.]+) ([0-9]+) ([0-9.]+) ([0-9.]+)/.exec(res.stderr ?? '');
  const said = `${res.stdout ?? ''}${(res.stderr ?? '').replace(/@@.*\n?/, '')}`.trim().split('\n').pop() ?? '';
  return { step, seconds: m ? Number(m[1]) : seconds, ...(m ? { cpu: Number(m[3]) + Number(m[4]), peakMB: Math.round(Number(m[2]) / 1024) } : {}), note: `exit ${res.status}${said ? `: ${said.slice(0, 80)}` : ''}` };
}

/** Largest VmHWM (peak RSS) among the process tree of `pid`. */
function treePeak(pid: number): number {
  let peak = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) * 1024);
    } catch { /* exited */ }
  }
  return peak;
}

async function daemon(which: AuthName, file: string, cli: string): Promise<Row> {
  const step = which === 'portcullis' ? 'portcullis serve' : which === 'knot' ? 'knotd' : which;
  if (which === 'portcullis' && !existsSync(cli)) return { step, note: `${cli} not built` };
  try {
    const s = await startAuth(which, { origin: GEN_ORIGIN, file, address: '127.0.0.1', port: PORT, readyTimeoutMs: LIMIT_MS }, { cli, nodeArgs: ['--expose-gc'] });
    try {
      const cpu = cpuSeconds(s.pid);
      await new Promise((r) => setTimeout(r, 1000));
      const m = memory(s.pid);
      return { step, seconds: s.startMs / 1000, cpu, peakMB: mb(treePeak(s.pid)), residentMB: mb(m.pss), note: `time to the first answer; resident = PSS of ${processTree(s.pid).length} process(es)` };
    } finally {
      await s.stop();
    }
  } catch (e) {
    return { step, note: `failed: ${(e as Error).message.split('\n')[0]}` };
  }
}

function knotCheck(file: string, dir: string): Row {
  const conf = join(dir, 'knotc.conf');
  mkdirSync(join(dir, 'knotc'), { recursive: true });
  writeFileSync(conf, [
    'server:', `  rundir: "${dir}/knotc"`, 'database:', `  storage: "${dir}/knotc"`,
    'zone:', `  - domain: "${GEN_ORIGIN.replace(/\.$/, '')}"`, `    file: "${file}"`, '',
  ].join('\n'));
  return checker('knotc zone-check', 'knotc', ['-c', conf, 'zone-check', GEN_ORIGIN.replace(/\.$/, '')]);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1]!, args[2]!);
  const n = Number(args.find((a) => /^[0-9]+$/.test(a)) ?? 1_000_000);
  const keepAt = args.indexOf('--keep');
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? new Set(args[onlyAt + 1]!.split(',')) : undefined;
  const dir = keepAt >= 0 ? args[keepAt + 1]! : mkdtempSync(join(tmpdir(), 'zone-load-'));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `load-${n}.zone`);
  const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
  try {
    if (!existsSync(file)) await generateZone(file, n);
    console.log(`zone: ${n} records, ${(statSync(file).size / 1e6).toFixed(1)} MB (bench/gen-zone.ts)`);
    const steps: [string, () => Row | Promise<Row>][] = [
      ['parse', () => ours('parse', file)],
      ['check', () => ours('check', file)],
      ['load', () => ours('load', file)],
      ['array', () => ours('array', file)],
      ['named-checkzone', () => checker('named-checkzone -i local', 'named-checkzone', ['-i', 'local', GEN_ORIGIN, file])],
      ['knotc', () => knotCheck(file, dir)],
      ['nsd-checkzone', () => checker('nsd-checkzone', 'nsd-checkzone', [GEN_ORIGIN, file])],
      ['knotd', () => daemon('knot', file, cli)],
      ['nsd', () => daemon('nsd', file, cli)],
      ['serve', () => daemon('portcullis', file, cli)],
    ];
    const rows: Row[] = [];
    for (const [name, run] of steps) {
      if (only && !only.has(name) && !(name === 'serve' && only.has('portcullis'))) continue;
      const row = await run();
      rows.push(row);
      console.error(`${row.step}: ${row.seconds?.toFixed(2) ?? '-'} s (CPU ${row.cpu?.toFixed(2) ?? '-'} s), peak ${row.peakMB ?? '-'} MB`);
    }
    console.log('| step | seconds | CPU seconds | peak RSS MB | resident MB | note |');
    console.log('|---|---:|---:|---:|---:|---|');
    for (const r of rows) console.log(`| ${r.step} | ${r.seconds?.toFixed(2) ?? '-'} | ${r.cpu?.toFixed(2) ?? '-'} | ${r.peakMB ?? '-'} | ${r.residentMB ?? '-'} | ${r.note} |`);
  } finally {
    if (keepAt < 0) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
