// Cost of Monitor.observe per query event: metrics, live stats, top lists, query log (off) and
// the detector, fed the seeded labelled traffic of src/monitor/traffic/generator.ts (normal
// clients plus every attack kind). Each event gets a freshly parsed Name, as a decoded query
// would, so lazily computed name forms are paid inside observe. Reports nanoseconds per event
// (the median of several runs over the same events, each run on a new Monitor):
//   node dist/bench/monitor-observe.js [RUNS] [--minutes N] [--qps N]
// --qps replays the same events compressed to that rate, where the detector sheds load.
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
  /** Events the detector scored (fewer than `events` while it sheds load). */
  scored: number;
}

function parseName(q: QueryEvent['qname']): Name {
  if (typeof q !== 'string') return Name.parse(q.toString());
  return Name.parse(q.endsWith('.') ? q : q + '.');
}

/** Measures observe over `minutes` of generated traffic, `runs` times. */
export function measureObserve(runs = 5, minutes = 10, seed = 1, detection = true, qps?: number): ObserveCost {
  const traffic = generateTraffic({ seed, durationMs: minutes * 60_000, episodesPerKind: 2 });
  // With `qps`, the same events replayed at that rate (time compressed): the detector sheds load.
  // Five seconds of it, the generated events repeated as often as needed.
  const base = traffic.events;
  const events = qps === undefined ? base : Array.from({ length: Math.round(qps * 5) }, (_, i) => ({ ...base[i % base.length]!, time: traffic.start + (i * 1000) / qps }));
  const logger = pino({ level: 'silent' });
  const ns: number[] = [];
  let alerts = 0;
  let scored = 0;
  const CHUNK = 2048;
  for (let r = 0; r < runs + 1; r++) {
    let virtualNow = traffic.start;
    const monitor = new Monitor({ logger, clock: () => virtualNow, detection: { enabled: detection, actions: { tunneling: 'block' } } });
    (globalThis as { gc?: () => void }).gc?.();
    let cpuMicros = 0;
    // Fresh names per chunk (a query's Name is new for every query on a server), made outside
    // the measured part; chunks keep the live heap as small as a server's.
    for (let start = 0; start < events.length; start += CHUNK) {
      const chunk: QueryEvent[] = [];
      for (let i = start; i < Math.min(events.length, start + CHUNK); i++) chunk.push({ ...events[i]!, qname: parseName(events[i]!.qname) });
      const t0 = process.cpuUsage();
      for (let i = 0; i < chunk.length; i++) {
        const e = chunk[i]!;
        virtualNow = e.time;
        monitor.observe(e);
      }
      const used = process.cpuUsage(t0);
      cpuMicros += used.user + used.system;
    }
    if (r === 0) continue; // warm-up run: JIT
    ns.push((cpuMicros * 1000) / events.length);
    alerts = monitor.alerts().length;
    scored = monitor.detector.sampling.scored;
  }
  const sorted = [...ns].sort((a, b) => a - b);
  return { events: events.length, runs, nsPerEvent: ns.map((x) => Math.round(x)), median: Math.round(sorted[Math.floor(sorted.length / 2)]!), alerts, scored };
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\/(bench\/)/, '$1'));
if (isMain) {
  const args = process.argv.slice(2);
  const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 5);
  const mi = args.indexOf('--minutes');
  const minutes = mi >= 0 ? Number(args[mi + 1]) : 10;
  const qi = args.indexOf('--qps');
  const qps = qi >= 0 ? Number(args[qi + 1]) : undefined;
  for (const detection of [true, false]) {
    const r = measureObserve(runs, minutes, 1, detection, qps);
    console.log(`Monitor.observe${qps ? ` at ${qps} q/s` : ''}, detection ${detection ? 'on' : 'off'}: ${r.events} events x ${r.runs} runs: ${r.nsPerEvent.join(', ')} ns/event; median ${r.median}  ns/event (${r.alerts} alerts, detector scored ${r.scored}; ${((r.median * 150_000) / 1e9 * 100).toFixed(1)} % of a core at 150k qps)`);
  }
}
