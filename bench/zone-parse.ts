// Times our zone parser against `named-checkzone` on the same generated file and prints both:
//   node dist/bench/zone-parse.js [N] [--keep FILE]
// Ours: readZoneFile (streaming, records counted and dropped) and, separately, parse + checkZone
// (all records held, as check-zone does). Peak RSS is sampled for the streaming run.
// named-checkzone runs with `-i local`: its default integrity mode resolves out-of-zone
// MX/SRV/NS targets through the system resolver, which would time the network, not the parser.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Name, type ResourceRecord } from '../src/wire/index.js';
import { readZoneFile } from '../src/zone/parser.js';
import { checkZone } from '../src/zone/checks.js';
import { generateZone, GEN_ORIGIN } from './gen-zone.js';

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'zone-bench-'));
  const file = join(dir, 'bench.zone');
  try {
    const written = await generateZone(file, n);
    console.log(`zone: ${written} records, ${(statSync(file).size / 1e6).toFixed(1)} MB`);
    const origin = Name.parse(GEN_ORIGIN);

    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    let t0 = process.hrtime.bigint();
    let count = 0;
    for await (const _ of readZoneFile(file, { origin })) count++;
    const streamMs = Number(process.hrtime.bigint() - t0) / 1e6;
    clearInterval(sampler);
    console.log(`portcullis readZoneFile (stream): ${count} records in ${(streamMs / 1000).toFixed(2)} s, peak RSS +${((peak - rssBefore) / 1e6).toFixed(0)} MB`);

    t0 = process.hrtime.bigint();
    const all: ResourceRecord[] = [];
    for await (const rr of readZoneFile(file, { origin })) all.push(rr);
    const result = checkZone(origin, all);
    const checkMs = Number(process.hrtime.bigint() - t0) / 1e6;
    console.log(`portcullis parse + checkZone: ${result.records.length} records, ${result.errors.length} errors, ${result.warnings.length} warnings in ${(checkMs / 1000).toFixed(2)} s, RSS ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);

    t0 = process.hrtime.bigint();
    const res = spawnSync('named-checkzone', ['-i', 'local', GEN_ORIGIN, file], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const bindMs = Number(process.hrtime.bigint() - t0) / 1e6;
    if (res.error) console.log(`named-checkzone: not run (${res.error.message})`);
    else console.log(`named-checkzone: exit ${res.status} in ${(bindMs / 1000).toFixed(2)} s (${(res.stdout.trim().split('\n').pop() ?? '').slice(0, 80)})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
