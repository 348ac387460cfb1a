import { pino, type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Rcode, rcodeToString, typeToString } from '../wire/index.js';
import { monitorSchema, type DetectionConfigInput, type MonitorConfigInput, type QueryLogConfigInput } from './config.js';
import { Detector } from './detector.js';
import { LATENCY_BUCKETS, MonitorMetrics, type LabelledCounts, type TransportCounts } from './metrics.js';
import { clientMapper, type ClientMapper } from './privacy.js';
import { QueryLog } from './query-log.js';
import type { Alert, Decision, QueryEvent } from './types.js';


/** Alert log lines written per second at most (see onAlert). */
const ALERT_LOG_PER_SECOND = 10;
export interface MonitorOptions {
  monitor?: MonitorConfigInput;
  detection?: DetectionConfigInput;
  queryLog?: QueryLogConfigInput;
  /** Base logger; alerts log at warn, the query log at info with `"msg":"query"`. Default: JSON on stderr. */
  logger?: Logger;
  /** Registry to register the metrics in (default: a new one). */
  registry?: Registry;
  /** Also collect Node's process metrics (`portcullis_process_*`, `portcullis_nodejs_*`). */
  defaultMetrics?: boolean;
  /** Current time in ms (default Date.now); tests pass virtual time. */
  clock?: () => number;
}

/** The live numbers the dashboard and `GET /api/stats` show. */
export interface MonitorStats {
  time: number;
  uptimeSeconds: number;
  queries: number;
  /** Queries per second over the last 10 seconds. */
  qps: number;
  /** Queries in each of the last 60 seconds, oldest first. */
  qpsSeries: number[];
  rcodes: Record<string, number>;
  transports: Record<string, number>;
  types: Record<string, number>;
  cache: { hits: number; misses: number; hitRatio: number; entries?: number };
  rateLimited: number;
  dropped: number;
  truncated: number;
  tcpConnections: number;
  upstream: { queries: number; failures: number };
  /** Over the current and the previous minute. */
  topClients: { client: string; queries: number }[];
  topDomains: { domain: string; queries: number }[];
  alerts: { active: number; byType: Record<string, number> };
  queryLog: { mode: string; lines: number };
}

/** Query types that get their own label value; the rest count as OTHER (bounded cardinality). */
const TYPE_LABELS = ['A', 'AAAA', 'CNAME', 'MX', 'NS', 'PTR', 'SOA', 'SRV', 'TXT', 'NULL', 'DS', 'DNSKEY', 'HTTPS', 'SVCB', 'CAA', 'NAPTR', 'ANY', 'AXFR', 'IXFR', 'OTHER'];
const OTHER_TYPE = TYPE_LABELS.length - 1;
/** qtype -> index into TYPE_LABELS, filled on first sight (-1: not yet). */
const typeIndexOf = new Int8Array(65536).fill(-1);
function typeIndex(qtype: number): number {
  const t = qtype & 0xffff;
  let i = typeIndexOf[t]!;
  if (i < 0) {
    i = TYPE_LABELS.indexOf(typeToString(t));
    if (i < 0) i = OTHER_TYPE;
    typeIndexOf[t] = i;
  }
  return i;
}
/** Header rcodes are 4 bits; index 16 counts queries given no response. */
const RCODE_SLOTS = 17;
const DROPPED_SLOT = 16;
const rcodeLabel = (i: number) => (i === DROPPED_SLOT ? 'DROPPED' : rcodeToString(i));
const TOP_MAX_KEYS = 5000;
/** Queries a second up to which the top lists count every query. */
const TOP_EXACT_RATE = 10_000;
/** At most every 16th query is counted (160k+ a second). */
const TOP_MAX_STRIDE = 16;

/** Counts of one (transport, view, zone): plain numbers, turned into metrics when scraped. */
class Row implements LabelledCounts {
  readonly queries = new Float64Array(TYPE_LABELS.length);
  readonly responses = new Float64Array(RCODE_SLOTS);
  constructor(readonly transport: string, readonly view: string, readonly zone: string) {}
  *types(): Iterable<[string, number]> {
    for (let i = 0; i < this.queries.length; i++) if (this.queries[i]! > 0) yield [TYPE_LABELS[i]!, this.queries[i]!];
  }
  *rcodes(): Iterable<[string, number]> {
    for (let i = 0; i < DROPPED_SLOT; i++) if (this.responses[i]! > 0) yield [rcodeLabel(i), this.responses[i]!];
  }
}

class TransportRow implements TransportCounts {
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  latencySum = 0;
  latencyCount = 0;
  truncated = 0;
  dropped = 0;
  rateLimited = 0;
  constructor(readonly transport: string) {}
}

/**
 * The monitor: metrics, live stats, the query log and the detector behind one `observe` call
 * per query (the finalize phase makes it). `decide` is asked before answering.
 */
export class Monitor {
  readonly detector: Detector;
  readonly queryLog: QueryLog;
  /** The Prometheus metrics, built on first use (see `metrics`). */
  private m: MonitorMetrics | undefined;
  private readonly metricOptions: { registry?: Registry; defaultMetrics?: boolean };
  /** Registrations of other parts' metrics, run when the registry is built. */
  private readonly metricParts: Array<(registry: Registry) => void> = [];
  private readonly logger: Logger;
  private readonly clock: () => number;
  private alertLogSecond = -1;
  private alertLogLines = 0;
  private alertLogSuppressed = 0;
  private readonly started: number;
  private readonly mapClient: ClientMapper;
  private top: number;
  private cacheSize?: () => number;

  private total = 0;
  /** transport -> view -> zone -> counts; `lastRow` short-cuts the common repeat. */
  private readonly rows = new Map<string, Map<string, Map<string, Row>>>();
  private readonly allRows: Row[] = [];
  private lastRow: Row | undefined;
  private readonly transportRows = new Map<string, TransportRow>();
  private lastTransport: TransportRow | undefined;
  private hits = 0;
  private misses = 0;
  private limited = 0;
  private dropped = 0;
  private truncated = 0;
  private tcpOpen = 0;
  private tcpAccepted = 0;
  private upstreamQueries = 0;
  private upstreamFailures = 0;
  private readonly failureReasons = new Map<string, number>();
  private readonly alertsRaised = new Map<string, number>();
  /** "action\0type" -> queries. */
  private readonly actionsTaken = new Map<string, number>();
  private readonly perSecond = new Float64Array(60);
  private readonly perSecondEpoch = new Float64Array(60).fill(-1);
  private topMinute = -1;
  /** Every topStride-th query feeds the top lists (a power of two; 1 below TOP_EXACT_RATE). */
  private topStride = 1;
  private rng = 0x9e3779b9;
  private clientsNow = new Map<string, Count>();
  private clientsPrev = new Map<string, Count>();
  private domainsNow = new Map<string, Count>();
  private domainsPrev = new Map<string, Count>();

  constructor(opts: MonitorOptions = {}) {
    const mc = monitorSchema.parse(opts.monitor ?? {});
    this.top = mc.top;
    this.clock = opts.clock ?? Date.now;
    this.started = this.clock();
    this.logger = opts.logger ?? pino({ base: undefined }, pino.destination({ fd: 2, sync: false }));
    this.mapClient = clientMapper(mc['client-privacy'], mc['hash-key']);
    const qlPrivacy = opts.queryLog?.['client-privacy'];
    const qlMapper = qlPrivacy && qlPrivacy !== mc['client-privacy'] ? clientMapper(qlPrivacy, mc['hash-key']) : this.mapClient;
    this.queryLog = new QueryLog(this.logger.child({ component: 'query-log' }), qlMapper, opts.queryLog);
    const alertLog = this.logger.child({ component: 'detection' });
    this.metricOptions = { registry: opts.registry, defaultMetrics: opts.defaultMetrics };
    this.detector = new Detector({
      detection: opts.detection,
      mapClient: this.mapClient,
      clock: this.clock,
      onAlert: (a, fresh) => {
        if (!fresh) return;
        this.alertsRaised.set(a.type, (this.alertsRaised.get(a.type) ?? 0) + 1);
        // A flood of distinct alerts must not become a flood of log lines: at most
        // ALERT_LOG_PER_SECOND lines a second; the next line says how many were left out (the
        // metric, the API and the dashboard still see every alert).
        const second = Math.floor(this.clock() / 1000);
        if (second !== this.alertLogSecond) {
          this.alertLogSecond = second;
          this.alertLogLines = 0;
        }
        if (++this.alertLogLines > ALERT_LOG_PER_SECOND) {
          this.alertLogSuppressed++;
          return;
        }
        const suppressed = this.alertLogSuppressed;
        this.alertLogSuppressed = 0;
        alertLog.warn(suppressed ? { alert: a, suppressed } : { alert: a }, `detection: ${a.type} ${a.domain || ''} from ${a.client} (score ${a.score})`);
      },
      onAction: (d) => {
        const key = `${d.action}\0${d.reason}`;
        this.actionsTaken.set(key, (this.actionsTaken.get(key) ?? 0) + 1);
      },
    });
  }

  /**
   * The Prometheus registry with every metric of the server. Built, and prom-client loaded, the
   * first time it is asked for (a scrape, the control API); every metric reads the monitor's
   * plain counts then, so nothing counted before is lost.
   */
  get metrics(): Registry {
    if (this.m === undefined) {
      this.m = new MonitorMetrics({
        ...this.metricOptions,
        cacheSize: () => this.cacheSize?.() ?? 0,
        activeAlerts: () => this.alertCounts(),
        counts: {
          rows: () => this.allRows,
          transports: () => this.transportRows.values(),
          cacheHits: () => this.hits,
          cacheMisses: () => this.misses,
          queryLogLines: () => this.queryLog.written,
          upstreamOk: () => this.upstreamQueries - this.upstreamFailures,
          upstreamFailures: () => this.failureReasons,
          tcpOpen: () => this.tcpOpen,
          tcpAccepted: () => this.tcpAccepted,
          alertsRaised: () => this.alertsRaised,
          actionsTaken: () => actionEntries(this.actionsTaken),
        },
      });
      for (const register of this.metricParts) register(this.m.registry);
    }
    return this.m.registry;
  }

  /** Registers metrics of another part (dnstap, resolver) with the registry, now or when it is built. */
  addMetrics(register: (registry: Registry) => void): void {
    if (this.m === undefined) this.metricParts.push(register);
    else register(this.m.registry);
  }

  /** Applies new settings on reload; counters, windows and alerts are kept. */
  reconfigure(opts: Pick<MonitorOptions, 'detection' | 'queryLog' | 'monitor'>): void {
    if (opts.detection) this.detector.configure(opts.detection);
    if (opts.queryLog) this.queryLog.configure(opts.queryLog);
    if (opts.monitor) this.top = monitorSchema.parse(opts.monitor).top;
  }

  /**
   * Called once per query by the finalize phase. Synchronous and allocation-free apart from the
   * detector: plain counters here, turned into Prometheus metrics only when scraped.
   */
  observe(e: QueryEvent): void {
    this.total++;
    const transport = e.transport;
    const view = e.view ?? '';
    const zone = e.zone ?? '';
    const dropped = e.flags.dropped;
    let row = this.lastRow;
    if (row === undefined || row.transport !== transport || row.view !== view || row.zone !== zone) row = this.lastRow = this.rowFor(transport, view, zone);
    row.queries[typeIndex(e.qtype)]!++;
    row.responses[dropped ? DROPPED_SLOT : e.rcode & 15]!++;
    let tr = this.lastTransport;
    if (tr === undefined || tr.transport !== transport) {
      tr = this.transportRows.get(transport);
      if (!tr) this.transportRows.set(transport, (tr = new TransportRow(transport)));
      this.lastTransport = tr;
    }
    if (!dropped) {
      const s = e.latencyMs / 1000;
      let i = 0;
      while (i < LATENCY_BUCKETS.length && s > LATENCY_BUCKETS[i]!) i++;
      tr.buckets[i]!++;
      tr.latencySum += s;
      tr.latencyCount++;
    }
    if (e.flags.tc) { this.truncated++; tr.truncated++; }
    if (dropped) { this.dropped++; tr.dropped++; }
    if (e.flags.rateLimited) { this.limited++; tr.rateLimited++; }
    const recursive = e.recursive ?? (e.zone === undefined && !dropped && !e.flags.rateLimited && e.rcode !== Rcode.REFUSED);
    if (e.flags.cached) this.hits++;
    else if (recursive) this.misses++;

    const sec = Math.floor(e.time / 1000);
    const si = sec % 60;
    if (this.perSecondEpoch[si] !== sec) {
      // A new second: how finely the top lists count in it follows the last second's rate.
      const prev = (si + 59) % 60;
      const rate = this.perSecondEpoch[prev] === sec - 1 ? this.perSecond[prev]! : 0;
      this.topStride = 1;
      while (this.topStride < TOP_MAX_STRIDE && rate > TOP_EXACT_RATE * this.topStride) this.topStride *= 2;
      this.perSecondEpoch[si] = sec;
      this.perSecond[si] = 0;
    }
    this.perSecond[si]!++;

    const minute = Math.floor(e.time / 60000);
    if (minute !== this.topMinute) {
      this.clientsPrev = minute === this.topMinute + 1 ? this.clientsNow : new Map();
      this.domainsPrev = minute === this.topMinute + 1 ? this.domainsNow : new Map();
      this.clientsNow = new Map();
      this.domainsNow = new Map();
      this.topMinute = minute;
    }
    // Top clients and domains: every query up to TOP_EXACT_RATE a second; above it one query
    // in topStride, picked at random (a fixed stride would alias with periodic traffic) and
    // counted topStride times. Two map lookups a query cost several per cent of a core at 100k
    // queries a second, and a top list does not need exact counts.
    if (this.topStride > 1) {
      let x = this.rng;
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      this.rng = x >>> 0;
      if ((this.rng & (this.topStride - 1)) !== 0) {
        this.queryLog.write(e);
        this.detector.observe(e);
        return;
      }
    }
    const weight = this.topStride;
    bump(this.clientsNow, e.client, weight);
    const qn = typeof e.qname === 'string' ? e.qname.toLowerCase() : e.qname.key;
    bump(this.domainsNow, qn, weight);

    this.queryLog.write(e);
    this.detector.observe(e);
  }

  private rowFor(transport: string, view: string, zone: string): Row {
    let byView = this.rows.get(transport);
    if (!byView) this.rows.set(transport, (byView = new Map()));
    let byZone = byView.get(view);
    if (!byZone) byView.set(view, (byZone = new Map()));
    let row = byZone.get(zone);
    if (!row) {
      byZone.set(zone, (row = new Row(transport, view, zone)));
      this.allRows.push(row);
    }
    return row;
  }

  /** True while the detector throttles or blocks someone (the fast path then steps aside). */
  get enforcing(): boolean {
    return this.detector.enforcing;
  }

  /** Asked before answering: undefined, or throttle/block with the EDE to answer with. */
  decide(client: string, qname: QueryEvent['qname']): Decision | undefined {
    return this.detector.decide(client, qname);
  }

  alerts(): Alert[] {
    return this.detector.alerts();
  }

  /** Lets the cache report its size for `portcullis_cache_entries` and the stats. */
  setCacheSize(source: () => number): void {
    this.cacheSize = source;
  }

  /** The resolver reports every upstream query: 'ok', or a failure reason ('timeout', 'servfail', 'network', ...). */
  upstream(outcome: string): void {
    this.upstreamQueries++;
    if (outcome !== 'ok') {
      this.upstreamFailures++;
      this.failureReasons.set(outcome, (this.failureReasons.get(outcome) ?? 0) + 1);
    }
  }

  /** Stream transports report connections opening (+1) and closing (-1). */
  tcpConnection(delta: 1 | -1): void {
    this.tcpOpen = Math.max(0, this.tcpOpen + delta);
    if (delta > 0) this.tcpAccepted++;
  }

  stats(): MonitorStats {
    const now = this.clock();
    const nowSec = Math.floor(now / 1000);
    const series: number[] = [];
    for (let s = nowSec - 59; s <= nowSec; s++) {
      const i = ((s % 60) + 60) % 60;
      series.push(this.perSecondEpoch[i] === s ? this.perSecond[i]! : 0);
    }
    // The current second is partial: the rate is the ten full seconds before it.
    const qps = series.slice(49, 59).reduce((a, b) => a + b, 0) / 10;
    const byType = this.alertCounts();
    const entries = this.cacheSize?.();
    return {
      time: now,
      uptimeSeconds: Math.round((now - this.started) / 1000),
      queries: this.total,
      qps,
      qpsSeries: series,
      ...this.labelTotals(),
      cache: { hits: this.hits, misses: this.misses, hitRatio: this.hits + this.misses === 0 ? 0 : this.hits / (this.hits + this.misses), ...(entries !== undefined ? { entries } : {}) },
      rateLimited: this.limited,
      dropped: this.dropped,
      truncated: this.truncated,
      tcpConnections: this.tcpOpen,
      upstream: { queries: this.upstreamQueries, failures: this.upstreamFailures },
      topClients: topOf(this.clientsNow, this.clientsPrev, this.top).map(([k, v]) => ({ client: this.mapClient(k), queries: v })),
      topDomains: topOf(this.domainsNow, this.domainsPrev, this.top).map(([k, v]) => ({ domain: k, queries: v })),
      alerts: { active: Object.values(byType).reduce((a, b) => a + b, 0), byType },
      queryLog: { mode: this.queryLog.currentMode, lines: this.queryLog.written },
    };
  }

  /** Queries by rcode (DROPPED included), transport and type label, summed over the rows. */
  private labelTotals(): { rcodes: Record<string, number>; transports: Record<string, number>; types: Record<string, number> } {
    const rcodes: Record<string, number> = {};
    const transports: Record<string, number> = {};
    const types: Record<string, number> = {};
    for (const r of this.allRows) {
      for (let i = 0; i < RCODE_SLOTS; i++) if (r.responses[i]! > 0) rcodes[rcodeLabel(i)] = (rcodes[rcodeLabel(i)] ?? 0) + r.responses[i]!;
      for (let i = 0; i < TYPE_LABELS.length; i++) {
        const n = r.queries[i]!;
        if (n === 0) continue;
        types[TYPE_LABELS[i]!] = (types[TYPE_LABELS[i]!] ?? 0) + n;
        transports[r.transport] = (transports[r.transport] ?? 0) + n;
      }
    }
    return { rcodes, transports, types };
  }

  private alertCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const a of this.detector.alerts()) out[a.type] = (out[a.type] ?? 0) + 1;
    return out;
  }
}

/** A mutable count, so a repeat key costs one map lookup. */
interface Count {
  n: number;
}

/** Counts `k`; new keys only while the map holds fewer than TOP_MAX_KEYS. */
function bump(m: Map<string, Count>, k: string, weight: number): void {
  const c = m.get(k);
  if (c !== undefined) c.n += weight;
  else if (m.size < TOP_MAX_KEYS) m.set(k, { n: weight });
}

function topOf(a: Map<string, Count>, b: Map<string, Count>, n: number): [string, number][] {
  const sum = new Map<string, number>();
  for (const [k, v] of b) sum.set(k, v.n);
  for (const [k, v] of a) sum.set(k, (sum.get(k) ?? 0) + v.n);
  return [...sum].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, n);
}

/** [action, type, count] of the detector's action counts keyed "action\0type". */
function* actionEntries(counts: Map<string, number>): Iterable<[string, string, number]> {
  for (const [key, n] of counts) {
    const cut = key.indexOf('\0');
    yield [key.slice(0, cut), key.slice(cut + 1), n];
  }
}
