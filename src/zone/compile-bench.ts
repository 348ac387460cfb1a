// Measures buildZone()+compile() on a generated zone and prints time and heap as JSON.
//   node --expose-gc dist/src/zone/compile-bench.js [records=1000000]
//   node --expose-gc dist/src/zone/compile-bench.js --file ZONEFILE [origin=bench.test.]
// The second form times loadZoneFile (parse streamed into the builder, checks) on a zone file,
// e.g. one written by bench/gen-zone.ts, and prints CPU seconds, peak RSS and the heap kept.
// The zone: SOA, NS, then names h<i>.s<i%1000> with an A each, every 10th an AAAA too and
// every 50th an MX to its own name: flat and realistic enough to show per-name costs.
import { Name, RRClass, RRType, type ResourceRecord } from '../wire/index.js';
import { buildZone } from './zone.js';
import { loadZoneFile } from './checks-load.js';
import { lookup } from '../authoritative/lookup.js';

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) g();
}

function mib(n: number): number {
  return Math.round((n / 1048576) * 10) / 10;
}

function generate(origin: Name, total: number): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  const soa = { mname: Name.parse('ns.bench.test.'), rname: Name.parse('hostmaster.bench.test.'), serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 300 };
  out.push({ name: origin, type: RRType.SOA, class: RRClass.IN, ttl: 3600, data: soa });
  out.push({ name: origin, type: RRType.NS, class: RRClass.IN, ttl: 3600, data: { target: Name.parse('ns.bench.test.') } });
  for (let i = 0; out.length < total; i++) {
    // A fresh Name per record, parsed relative to the origin as the zone parser does.
    const name = Name.parse(`h${i}.s${i % 1000}`, origin);
    out.push({ name, type: RRType.A, class: RRClass.IN, ttl: 300, data: { address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` } });
    if (i % 10 === 0 && out.length < total) {
      out.push({ name: Name.parse(`h${i}.s${i % 1000}`, origin), type: RRType.AAAA, class: RRClass.IN, ttl: 300, data: { address: `2001:db8::${i.toString(16)}` } });
    }
    if (i % 50 === 0 && out.length < total) {
      out.push({ name: Name.parse(`h${i}.s${i % 1000}`, origin), type: RRType.MX, class: RRClass.IN, ttl: 300, data: { preference: 10, exchange: name } });
    }
  }
  return out;
}

const fileAt = process.argv.indexOf('--file');
if (fileAt >= 0) {
  const file = process.argv[fileAt + 1]!;
  const origin = Name.parse(process.argv[fileAt + 2] ?? 'bench.test.');
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const load = await loadZoneFile(origin, file);
  const cpu = process.cpuUsage(c0);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  gc();
  console.log(JSON.stringify({
    file, records: load.zone?.recordCount, nodes: load.zone?.nodeCount, errors: load.errors.length, warnings: load.warnings.length,
    loadMs: Math.round(ms), loadCpuMs: Math.round((cpu.user + cpu.system) / 1000),
    heapKeptMiB: mib(process.memoryUsage().heapUsed), peakRssMiB: mib(process.resourceUsage().maxRSS * 1024),
    loadAverage: (await import('node:os')).loadavg()[0],
  }));
  process.exit(0);
}

const total = Number(process.argv[2] ?? 1_000_000);
const origin = Name.parse('bench.test.');
const records = generate(origin, total);
gc();
const before = process.memoryUsage();
const t0 = process.hrtime.bigint();
// CPU time as well as wall time: on a shared machine the wall clock mostly measures the others.
const c0 = process.cpuUsage();
const zone = buildZone(origin, records);
const buildCpu = process.cpuUsage(c0);
const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
gc();
const after = process.memoryUsage();
// Heap held by the zone beyond the input records (which the zone keeps, as the data).
const q0 = process.hrtime.bigint();
const qc0 = process.cpuUsage();
const queries = 100_000;
let answers = 0;
for (let i = 0; i < queries; i++) {
  const j = (i * 7919) % (total / 1.12) | 0;
  const a = lookup(zone, Name.parse(`h${j}.s${j % 1000}`, origin), RRType.A);
  if (a.kind === 'answer') answers++;
}
const lookupNs = Number(process.hrtime.bigint() - q0) / queries;
const lookupCpu = process.cpuUsage(qc0);
console.log(JSON.stringify({
  records: zone.recordCount,
  nodes: zone.nodeCount,
  buildMs: Math.round(buildMs),
  buildCpuMs: Math.round((buildCpu.user + buildCpu.system) / 1000),
  heapBeforeMiB: mib(before.heapUsed),
  heapAfterMiB: mib(after.heapUsed),
  heapAddedMiB: mib(after.heapUsed - before.heapUsed),
  rssMiB: mib(after.rss),
  gcExposed: typeof (globalThis as { gc?: unknown }).gc === 'function',
  lookups: queries,
  lookupAnswers: answers,
  lookupNsEach: Math.round(lookupNs),
  lookupCpuNsEach: Math.round(((lookupCpu.user + lookupCpu.system) * 1000) / queries),
  loadAverage: (await import('node:os')).loadavg()[0],
}));
// Keep the input alive until the end so heapAdded measures the zone's own structures.
if (records.length < 0) console.log(records[0]);
