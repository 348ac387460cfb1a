// In-process cost of the query path without sockets: transport decode (buildRequest), the
// composed pipeline (front + authoritative + refuse), finalize/encode. Reports CPU microseconds
// per query, which stays steady when other work shares the machine (unlike qps):
//   node dist/bench/pipeline.js [QUERIES] [--edns]
// Compare two builds by running each build's copy of this file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Name, RRClass, typeFromString } from '../src/wire/index.js';
import { readZoneFile } from '../src/zone/parser.js';
import { buildZone } from '../src/zone/zone.js';
import { ZoneSet } from '../src/authoritative/zone-set.js';
import { AuthoritativeStep } from '../src/authoritative/step.js';
import { FrontStep } from '../src/server/front.js';
import { composePipeline } from '../src/server/pipeline.js';
import { buildRequest, replyBytes } from '../src/transport/request.js';
import type { Endpoint } from '../src/transport/handler.js';
import { generateZone, GEN_ORIGIN } from './gen-zone.js';
import { generateQueries } from './queries.js';

/** A query as dnsperf sends it: RD clear, one question, optionally an OPT (payload 4096). */
export function encodeQuery(id: number, qname: string, qtype: number, edns: boolean): Uint8Array {
  const labels = qname.replace(/\.$/, '').split('.').filter(Boolean);
  const b: number[] = [id >> 8, id & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0, edns ? 1 : 0];
  for (const l of labels) b.push(l.length, ...Buffer.from(l, 'ascii'));
  b.push(0, qtype >> 8, qtype & 255, 0, RRClass.IN);
  if (edns) b.push(0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0);
  return Uint8Array.from(b);
}

export interface PipelineCost {
  queries: number;
  answered: number;
  cpuMicrosPerQuery: number;
  wallMicrosPerQuery: number;
}

/** Runs `count` queries (after `warmup` more) through a pipeline serving `zoneFile`. */
export async function measurePipeline(zoneFile: string, records: number, count: number, edns: boolean, warmup = 50_000): Promise<PipelineCost> {
  const origin = Name.parse(GEN_ORIGIN);
  const rrs = [];
  for await (const rr of readZoneFile(zoneFile, { origin })) rrs.push(rr);
  const zones = new ZoneSet([buildZone(origin, rrs)]);
  const handler = composePipeline([new FrontStep(), new AuthoritativeStep(() => zones)]);
  const raws = generateQueries(records, 20_000).map((q, i) => encodeQuery(i & 0xffff, q.name, typeFromString(q.type)!, edns));
  const client: Endpoint = { address: '127.0.0.1', port: 40000, family: 4 };
  const local: Endpoint = { address: '127.0.0.1', port: 53, family: 4 };
  let answered = 0;
  const run = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const req = buildRequest(raws[i % raws.length]!, client, local, 'udp', '127.0.0.1:53');
      if (!req) continue;
      if (replyBytes(await handler(req))) answered++;
    }
  };
  await run(warmup);
  answered = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await run(count);
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { queries: count, answered, cpuMicrosPerQuery: (c.user + c.system) / count, wallMicrosPerQuery: (wall * 1000) / count };
}

const isMain = process.argv[1]?.endsWith(join('bench', 'pipeline.js'));
if (isMain) {
  const count = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 200_000);
  const edns = process.argv.includes('--edns');
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-pipeline-'));
  const records = 11_000;
  generateZone(join(dir, 'z.zone'), records)
    .then(() => measurePipeline(join(dir, 'z.zone'), records, count, edns))
    .then((r) => {
      console.log(`${r.queries} queries${edns ? ' (EDNS)' : ''}: ${r.cpuMicrosPerQuery.toFixed(2)} µs CPU/query (${Math.round(1e6 / r.cpuMicrosPerQuery)} per CPU-s), ${r.wallMicrosPerQuery.toFixed(2)} µs wall/query, ${r.answered} answered`);
    })
    .finally(() => rmSync(dir, { recursive: true, force: true }));
}
