// Turns benchmark results into the Markdown tables, the JSON file and an SVG bar chart.
import { codecMarkdown, type CodecRow, type ParseRow } from './codec.js';

export interface ServerRun {
  server: string;
  /** Set when the server could not be measured (missing binary, failed start, ...). */
  skipped?: string;
  qps?: number;
  lostPct?: number;
  /** Mean latency of the throughput run. */
  avgMs?: number;
  /** Percentiles at the fixed-rate latency run. */
  p50Ms?: number;
  p99Ms?: number;
  /** p99 of each latency round (p99Ms is their median). */
  p99Rounds?: number[];
  latencyRate?: number;
  /** Share of one core the server used during the throughput run (1 = one full core). */
  cpu?: number;
  /**
   * Queries answered per CPU-second of the server (qps ÷ cpu): steadier than qps when other
   * work on the machine takes CPU from the server.
   */
  perCpuSecond?: number;
  tcpQps?: number;
  /** Portcullis's qps divided by this server's. */
  ratio?: number;
  note?: string;
}

export interface LoadRun {
  server: string;
  skipped?: string;
  records?: number;
  /** From spawn to the first answer, which every server gives only after loading. */
  loadSeconds?: number;
  /** CPU seconds of the process tree at the first answer. */
  cpuSeconds?: number;
  /** Minor page faults of the process tree at the first answer (memory touched, bench/proc.ts). */
  minorFaults?: number;
  /** Proportional set size of the process tree after loading, bytes. */
  pssBytes?: number;
  rssBytes?: number;
  axfrSeconds?: number;
  axfrNote?: string;
}

export interface BenchReport {
  started: string;
  quick: boolean;
  machine: { cpus: number; model: string; node: string; kernel: string };
  method: string[];
  authoritative: ServerRun[];
  resolver: ServerRun[];
  load: LoadRun[];
  workers?: { one?: number; two?: number; ratio?: number; perCpuOne?: number; perCpuTwo?: number; perCpuRatio?: number; note: string };
  /** Wire codec rates and zone-parse rate beside named-checkzone (bench/codec.ts). */
  codec?: { messages: CodecRow[]; parse: ParseRow[] };
  notes: string[];
}

const f0 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '-' : Math.round(v).toLocaleString('en-US'));
const f2 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(2));
const f3 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(3));
const mb = (v: number | undefined): string => (v === undefined ? '-' : (v / 1e6).toFixed(0));

/** Fills `ratio` on every row: Portcullis's qps over the row's (the Portcullis row gets 1). */
export function withRatios(runs: ServerRun[], ours = 'portcullis'): ServerRun[] {
  const me = runs.find((r) => r.server === ours)?.qps;
  return runs.map((r) => ({ ...r, ratio: me !== undefined && r.qps ? me / r.qps : undefined }));
}

function qpsTable(runs: readonly ServerRun[]): string {
  const rows = ['| server | qps (UDP) | lost % | mean ms | p50 ms | p99 ms | p99 of each round, ms | at qps | server CPU | queries per CPU-s | TCP qps | Portcullis ÷ server |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'];
  for (const r of runs) {
    if (r.skipped) rows.push(`| ${r.server} | skipped: ${r.skipped.replace(/\|/g, '/').split('\n')[0]} | | | | | | | | | | |`);
    else rows.push(`| ${r.server} | ${f0(r.qps)} | ${f2(r.lostPct)} | ${f3(r.avgMs)} | ${f3(r.p50Ms)} | ${f3(r.p99Ms)} | ${r.p99Rounds?.length ? r.p99Rounds.map((v) => v.toFixed(2)).join(' / ') : '-'} | ${f0(r.latencyRate)} | ${r.cpu === undefined ? '-' : `${Math.round(r.cpu * 100)}%`} | ${f0(r.perCpuSecond)} | ${f0(r.tcpQps)} | ${f2(r.ratio)} |`);
  }
  return rows.join('\n');
}

export function toMarkdown(r: BenchReport): string {
  const out: string[] = [];
  out.push(`# Portcullis benchmark${r.quick ? ' (--quick)' : ''}`, '');
  out.push(`${r.started}; ${r.machine.cpus} CPUs (${r.machine.model}); Node ${r.machine.node}; Linux ${r.machine.kernel}`, '');
  for (const m of r.method) out.push(`- ${m}`);
  out.push('', '## Authoritative', '', qpsTable(r.authoritative), '');
  out.push('## Cached resolver', '', qpsTable(r.resolver), '');
  out.push('## Zone load (generated zone)', '');
  out.push('| server | records | load s | CPU s | page faults | PSS MB | RSS MB | AXFR s |', '|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const l of r.load) {
    if (l.skipped) out.push(`| ${l.server} | skipped: ${l.skipped.split('\n')[0]!.replace(/\|/g, '/')} | | | | | | |`);
    else out.push(`| ${l.server} | ${f0(l.records)} | ${f2(l.loadSeconds)} | ${f2(l.cpuSeconds)} | ${f0(l.minorFaults)} | ${mb(l.pssBytes)} | ${mb(l.rssBytes)} | ${l.axfrSeconds !== undefined ? f2(l.axfrSeconds) : (l.axfrNote ?? '-')} |`);
  }
  if (r.workers) {
    out.push('', '## Workers', '', `workers: 1 → ${f0(r.workers.one)} qps (${f0(r.workers.perCpuOne)} per CPU-s); workers: 2 → ${f0(r.workers.two)} qps (${f0(r.workers.perCpuTwo)} per CPU-s); ratio ${f2(r.workers.ratio)} in qps, ${f2(r.workers.perCpuRatio)} per CPU-s. ${r.workers.note}`);
  }
  if (r.codec) out.push('', codecMarkdown(r.codec.messages, r.codec.parse).trimEnd());
  if (r.notes.length) {
    out.push('', '## Notes', '');
    for (const n of r.notes) out.push(`- ${n}`);
  }
  return out.join('\n') + '\n';
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A horizontal bar chart of qps, one group per table (authoritative, cached resolver); the
 * Portcullis bars are highlighted. Plain SVG: it renders on GitHub and in any browser.
 */
export function toSvg(groups: ReadonlyArray<{ title: string; runs: readonly ServerRun[] }>, metric: 'qps' | 'perCpuSecond' = 'qps'): string {
  const value = (r: ServerRun): number | undefined => r[metric];
  const label = metric === 'qps' ? 'queries per second (UDP, one core)' : 'queries per CPU-second of the server (UDP)';
  const bar = 22;
  const gap = 6;
  const left = 150;
  const width = 720;
  const plot = width - left - 90;
  const max = Math.max(1, ...groups.flatMap((g) => g.runs.map((r) => value(r) ?? 0)));
  let y = 20;
  const parts: string[] = [];
  for (const g of groups) {
    y += 18;
    parts.push(`<text x="10" y="${y}" font-weight="bold">${esc(g.title)} — ${label}</text>`);
    y += 10;
    for (const r of g.runs) {
      const v = value(r);
      const w = v ? Math.max(1, (v / max) * plot) : 0;
      const fill = r.server === 'portcullis' ? '#c0392b' : '#5d6d7e';
      parts.push(`<text x="${left - 8}" y="${y + bar * 0.7}" text-anchor="end">${esc(r.server)}</text>`);
      if (v) {
        parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${bar}" fill="${fill}"/>`);
        parts.push(`<text x="${(left + w + 6).toFixed(1)}" y="${y + bar * 0.7}">${f0(v)}</text>`);
      } else {
        parts.push(`<text x="${left + 4}" y="${y + bar * 0.7}" fill="#888">${esc(r.skipped ? 'skipped' : 'no result')}</text>`);
      }
      y += bar + gap;
    }
    y += 10;
  }
  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
