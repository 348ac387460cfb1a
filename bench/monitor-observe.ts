// Cost of Monitor.observe per query event: metrics, live stats, top lists, query log (off) and
// the detector, fed the seeded labelled traffic of src/monitor/traffic/generator.ts (normal
// clients plus every attack kind). Each event gets a freshly parsed Name, as a decoded query
// would, so lazily computed name forms are paid inside observe. Reports nanoseconds per event
// (the median of several runs over the same events, each run on a new Monitor):
//   node dist/bench/monitor-observe.js [RUNS] [--minutes N]
import { pino } from 'pino';
import { Monitor } from '../src/monitor/monitor.js';
import { generateTraffic } from '../src/monitor/traffic/generator.js';
import type { QueryEvent } from '../src/monitor/types.js';
import { Name } from '../src/wire/index.js';

export interface ObserveCost {
  events: number;
  runs: number;
  /** Per run, nanoseconds of CPU per event. */
  nsPerEvent: number[];
  median: number;
  alerts: number;
}

function parseName(q: QueryEvent['qname']): Name {
  if (typeof q !== 'string') return Name.parse(q.toString());
  return Name.parse(q.endsWith('.') ? q : q + '.');
}

/** Measures observe over `minutes` of generated traffic, `runs` times. */
export function measureObserve(runs = 5, minutes = 10, seed = 1, detection = true): ObserveCost {
  const traffic = generateTraffic({ seed, durationMs: minutes * 60_000, episodesPerKind: 2 });
  const events = traffic.events;
  const logger = pino({ level: 'silent' });
  const ns: number[] = [];
  let alerts = 0;
  for (let r = 0; r < runs + 1; r++) {
    // Fresh names per run: a query's Name is new for every query on a server.
    const fresh: QueryEvent[] = events.map((e) => ({ ...e, qname: parseName(e.qname) }));
    let virtualNow = traffic.start;
    const monitor = new Monitor({ logger, clock: () => virtualNow, detection: { enabled: detection, actions: { tunneling: 'block' } } });
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = process.cpuUsage();
    for (let i = 0; i < fresh.length; i++) {
      const e = fresh[i]!;
      virtualNow = e.time;
      monitor.observe(e);
    }
    const used = process.cpuUsage(t0);
    if (r === 0) continue; // warm-up run: JIT
    ns.push(((used.user + used.system) * 1000) / fresh.length);
    alerts = monitor.alerts().length;
  }
  const sorted = [...ns].sort((a, b) => a - b);
  return { events: events.length, runs, nsPerEvent: ns.map((x) => Math.round(x)), median: Math.round(sorted[Math.floor(sorted.length / 2)]!), alerts };
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\/(bench\/)/, '$1'));
if (isMain) {
  const args = process.argv.slice(2);
  const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 5);
  const mi = args.indexOf('--minutes');
  const minutes = mi >= 0 ? Number(args[mi + 1]) : 10;
  for (const detection of [true, false]) {
    const r = measureObserve(runs, minutes, 1, detection);
    console.log(`Monitor.observe, detection ${detection ? 'on' : 'off'}: ${r.events} events x ${r.runs} runs: ${r.nsPerEvent.join(', ')} ns/event; median ${r.median} ns/event (${r.alerts} alerts; ${((r.median * 150_000) / 1e9 * 100).toFixed(1)} % of a core at 150k qps)`);
  }
}
