// Wire codec and zone-parser rates for `npm run bench` (issue: wire format and zone files).
//   decode/encode: messages per CPU-second for a few typical messages, measured in-process;
//   parse: a generated zone parsed by readZoneFile beside `named-checkzone -i local` on the same
//   file (its default integrity mode would resolve out-of-zone targets over the network).
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { cpuUsage } from 'node:process';
import {
  decodeMessage, encodeMessage, makeMessage, Name, recordFromText, RRClass, RRType, type Message,
} from '../src/wire/index.js';
import { readZoneFile } from '../src/zone/parser.js';
import { GEN_ORIGIN } from './gen-zone.js';

export interface CodecRow {
  message: string;
  bytes: number;
  decodesPerCpuSecond: number;
  encodesPerCpuSecond: number;
}

export interface ParseRow {
  tool: string;
  records: number;
  cpuSeconds: number;
  recordsPerCpuSecond: number;
  note?: string;
}

function sampleMessages(): Array<{ name: string; msg: Message }> {
  const o = Name.parse('example.test.');
  const q = (name: string, type: number): Message =>
    makeMessage({ id: 4660, rd: true, question: [{ name: Name.parse(name), type, class: RRClass.IN }], edns: { udpSize: 1232, version: 0, do: false, z: 0, options: [] } });
  const answer = makeMessage({
    ...q('www.example.test.', RRType.A), qr: true, aa: true,
    answer: [recordFromText('www 300 IN CNAME web', o), recordFromText('web 300 IN A 192.0.2.1', o), recordFromText('web 300 IN A 192.0.2.2', o)],
    authority: [recordFromText('@ 300 IN NS ns1', o), recordFromText('@ 300 IN NS ns2', o)],
    additional: [recordFromText('ns1 300 IN A 192.0.2.53', o), recordFromText('ns2 300 IN AAAA 2001:db8::53', o)],
  });
  const referral = makeMessage({
    ...q('www.child.example.test.', RRType.A), qr: true,
    authority: [recordFromText('child 3600 IN NS ns1.child', o), recordFromText('child 3600 IN NS ns2.child', o)],
    additional: [recordFromText('ns1.child 3600 IN A 192.0.2.10', o), recordFromText('ns2.child 3600 IN A 192.0.2.11', o)],
  });
  const big = makeMessage({
    ...q('big.example.test.', RRType.TXT), qr: true, aa: true,
    answer: Array.from({ length: 12 }, (_, i) => recordFromText(`big 300 IN TXT "${'v=spf1 include:_spf.example.test '.repeat(2)}${i}"`, o)),
  });
  return [
    { name: 'query (A, EDNS)', msg: q('www.example.test.', RRType.A) },
    { name: 'answer (CNAME + A, NS, glue)', msg: answer },
    { name: 'referral with glue', msg: referral },
    { name: 'large TXT answer', msg: big },
  ];
}

function cpuSeconds(start: NodeJS.CpuUsage): number {
  const d = cpuUsage(start);
  return (d.user + d.system) / 1e6;
}

/** Decodes and encodes each sample for about `seconds` of CPU each (bounded by count too). */
export function benchCodec(seconds: number): CodecRow[] {
  const rows: CodecRow[] = [];
  for (const { name, msg } of sampleMessages()) {
    const wire = encodeMessage(msg);
    let n = 0;
    let start = cpuUsage();
    while (n < 5_000_000 && (n % 1000 !== 0 || cpuSeconds(start) < seconds)) {
      decodeMessage(wire);
      n++;
    }
    const decodes = n / cpuSeconds(start);
    n = 0;
    start = cpuUsage();
    while (n < 5_000_000 && (n % 1000 !== 0 || cpuSeconds(start) < seconds)) {
      encodeMessage(msg);
      n++;
    }
    rows.push({ message: name, bytes: wire.length, decodesPerCpuSecond: Math.round(decodes), encodesPerCpuSecond: Math.round(n / cpuSeconds(start)) });
  }
  return rows;
}

/** Our streaming parse of `file` beside named-checkzone on the same file (CPU seconds each). */
export async function benchParse(file: string, records: number): Promise<ParseRow[]> {
  const origin = Name.parse(GEN_ORIGIN);
  const start = cpuUsage();
  let count = 0;
  for await (const _ of readZoneFile(file, { origin })) count++;
  const ours = cpuSeconds(start);
  const rows: ParseRow[] = [{ tool: 'portcullis readZoneFile', records: count, cpuSeconds: ours, recordsPerCpuSecond: Math.round(count / ours) }];
  // The child's user+system time, from bash's `time` (Node does not expose children's rusage).
  const r = spawnSync('bash', ['-c', `TIMEFORMAT='%U %S'; { time named-checkzone -i local -k ignore -n ignore ${GEN_ORIGIN} "$1" >/dev/null 2>&1; } 2>&1; exit 0`, 'bash', file], { encoding: 'utf8', timeout: 600_000 });
  const [u, sys] = (r.stdout ?? '').trim().split(/\s+/).map(Number);
  const cpu = (u ?? NaN) + (sys ?? NaN);
  const note = `${(statSync(file).size / 1e6).toFixed(1)} MB file`;
  rows.push(Number.isFinite(cpu)
    ? { tool: 'named-checkzone -i local', records, cpuSeconds: cpu, recordsPerCpuSecond: Math.round(records / cpu), note }
    : { tool: 'named-checkzone -i local', records, cpuSeconds: NaN, recordsPerCpuSecond: NaN, note: `not measured: ${r.error?.message ?? 'no timing'}` });
  return rows;
}

export function codecMarkdown(codec: readonly CodecRow[], parse: readonly ParseRow[]): string {
  const lines = ['## Wire codec and zone parser', '', '| message | bytes | decodes / CPU-s | encodes / CPU-s |', '|---|---:|---:|---:|'];
  for (const r of codec) lines.push(`| ${r.message} | ${r.bytes} | ${r.decodesPerCpuSecond.toLocaleString('en')} | ${r.encodesPerCpuSecond.toLocaleString('en')} |`);
  if (parse.length) {
    lines.push('', '| zone parse | records | CPU s | records / CPU-s | note |', '|---|---:|---:|---:|---|');
    for (const p of parse) lines.push(`| ${p.tool} | ${p.records.toLocaleString('en')} | ${Number.isFinite(p.cpuSeconds) ? p.cpuSeconds.toFixed(2) : '-'} | ${Number.isFinite(p.recordsPerCpuSecond) ? p.recordsPerCpuSecond.toLocaleString('en') : '-'} | ${p.note ?? ''} |`);
  }
  return lines.join('\n') + '\n';
}
