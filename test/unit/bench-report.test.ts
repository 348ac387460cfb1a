// The report: ratios, Markdown tables, SVG chart, /proc parsing, CPU profile summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toMarkdown, toSvg, withRatios, type BenchReport, type ServerRun } from '../../bench/report.js';
import { cpuSeconds, memory, minorFaults, parseKbField, parseStat, processTree } from '../../bench/proc.js';
import { summariseProfile } from '../../bench/profile.js';
import { parseArgs } from '../../bench/run.js';

const runs: ServerRun[] = [
  { server: 'portcullis', qps: 80_000, p50Ms: 0.1, p99Ms: 0.9, p99Rounds: [0.9, 4.25, 0.8], cpu: 0.98, tcpQps: 40_000 },
  { server: 'nsd', qps: 160_000, p99Ms: 0.5, cpu: 0.9 },
  { server: 'knot', skipped: 'knotd not installed' },
];

test('withRatios divides our qps by each peer\'s', () => {
  const r = withRatios(runs);
  assert.equal(r[0]!.ratio, 1);
  assert.equal(r[1]!.ratio, 0.5);
  assert.equal(r[2]!.ratio, undefined);
  assert.equal(withRatios(runs.slice(1))[0]!.ratio, undefined, 'no Portcullis row: no ratios');
});

test('toMarkdown has a row per server, skipped ones with their reason', () => {
  const report: BenchReport = {
    started: '2026-01-01T00:00:00Z', quick: true, machine: { cpus: 2, model: 'x', node: '20', kernel: '6' },
    method: ['pinned'], authoritative: withRatios(runs), resolver: [], notes: ['a note'],
    load: [{ server: 'portcullis', records: 1000, loadSeconds: 1.5, cpuSeconds: 1.25, minorFaults: 12345, pssBytes: 50e6, rssBytes: 60e6, axfrNote: 'not served' }],
    workers: { one: 10, two: 18, ratio: 1.8, note: 'unpinned' },
  };
  const md = toMarkdown(report);
  assert.match(md, /\| portcullis \| 80,000 \|.*\| 0\.900 \| 0\.90 \/ 4\.25 \/ 0\.80 \|/, 'the median p99 and each round');
  assert.match(md, /\| nsd \| 160,000 \|.*\| 0\.50 \|/);
  assert.match(md, /\| knot \| skipped: knotd not installed/);
  assert.match(md, /\| portcullis \| 1,000 \| 1\.50 \| 1\.25 \| 12,345 \| 50 \| 60 \| not served \|/);
  assert.match(md, /ratio 1\.80/);
  assert.match(md, /--quick/);
  assert.match(md, /- a note/);
});

test('toSvg draws one bar per measured server, scaled to the largest', () => {
  const svg = toSvg([{ title: 'Authoritative <UDP>', runs }]);
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  const bars = [...svg.matchAll(/<rect x="150" y="\d+(?:\.\d+)?" width="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.equal(bars.length, 2);
  assert.equal(bars[1]! / bars[0]!, 2);
  assert.match(svg, /Authoritative &lt;UDP&gt;/);
  assert.match(svg, />skipped</);
  assert.match(svg, /<\/svg>\n$/);
  const perCpu = toSvg([{ title: 'A', runs: [{ server: 'portcullis', qps: 1, perCpuSecond: 100 }, { server: 'nsd', qps: 1, perCpuSecond: 400 }] }], 'perCpuSecond');
  const w = [...perCpu.matchAll(/<rect x="150" y="\d+(?:\.\d+)?" width="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.equal(w[1]! / w[0]!, 4);
  assert.match(perCpu, /CPU-second/);
});

test('parseStat copes with spaces and parentheses in the command name', () => {
  const line = '1234 (node (x) y) S 99 1 1 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 11 0 500 1000 200';
  assert.deepEqual(parseStat(line), { ppid: 99, minflt: 100, utime: 250, stime: 75 });
  assert.equal(parseKbField('Name:\tnode\nVmRSS:\t  2048 kB\n', 'VmRSS'), 2048 * 1024);
  assert.equal(parseKbField('Pss:  10 kB\n', 'VmRSS'), undefined);
});

test('our own process: in its tree, uses CPU, has memory', { skip: process.platform !== 'linux' && 'needs /proc' }, () => {
  assert.ok(processTree(process.pid).includes(process.pid));
  const before = cpuSeconds(process.pid);
  let x = 0;
  for (let i = 0; i < 3e8; i++) x = (x + i) % 1000003;
  assert.ok(x >= 0);
  assert.ok(cpuSeconds(process.pid) > before, 'CPU time grew after a busy loop');
  const m = memory(process.pid);
  assert.ok(m.rss > 10e6 && m.pss > 0 && m.pss <= m.rss * 1.01, JSON.stringify(m));
  // 40 MB touched for the first time: one minor fault per 4 KiB page (fewer with huge pages).
  const faults = minorFaults(process.pid);
  const fresh = new Uint8Array(40 * 1024 * 1024);
  for (let i = 0; i < fresh.length; i += 4096) fresh[i] = 1;
  const more = minorFaults(process.pid) - faults;
  assert.ok(more > 1000, `${more} minor faults for 10,240 new pages`);
});

test('summariseProfile adds self time per function', () => {
  const frame = (functionName: string, url = 'file:///r/dist/src/x.js', lineNumber = 0) => ({ functionName, url, lineNumber });
  const hot = summariseProfile({
    nodes: [
      { id: 1, callFrame: frame('(root)', '') },
      { id: 2, callFrame: frame('encode', 'file:///r/dist/src/wire/message.js', 81), children: [] },
      { id: 3, callFrame: frame('(garbage collector)', '') },
    ],
    samples: [2, 2, 3, 2],
    timeDeltas: [10, 10, 20, 10],
  });
  assert.equal(hot[0]!.where, 'encode (src/wire/message.js:82)');
  assert.equal(hot[0]!.share, 0.6);
  assert.equal(hot[1]!.where, '(garbage collector)');
  assert.equal(hot[1]!.share, 0.4);
});

test('parseArgs: --quick shortens runs; --only and --servers select', () => {
  const q = parseArgs(['--quick', '--only', 'auth,load', '--servers=nsd,portcullis']);
  assert.equal(q.quick, true);
  assert.ok(q.seconds < parseArgs([]).seconds);
  assert.deepEqual([...q.only], ['auth', 'load']);
  assert.deepEqual([...q.servers!], ['nsd', 'portcullis']);
  assert.equal(parseArgs([]).servers, undefined);
  assert.throws(() => parseArgs(['--seconds', '0']), /positive/);
});
