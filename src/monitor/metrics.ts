import type { Counter, Gauge, Registry } from 'prom-client';
import { promClient } from './prom.js';
import { FINDING_TYPES } from './types.js';

/** Upper bounds (seconds) of the latency histogram. */
export const LATENCY_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Query and response counts of one (transport, view, zone), by type and rcode label value. */
export interface LabelledCounts {
  readonly transport: string;
  readonly view: string;
  readonly zone: string;
  /** [type label, count] pairs with count > 0. */
  types(): Iterable<[string, number]>;
  /** [rcode label, count] pairs of sent responses with count > 0. */
  rcodes(): Iterable<[string, number]>;
}

/** Per-transport counts: latency buckets (not cumulative, one more than the bounds), flags. */
export interface TransportCounts {
  readonly transport: string;
  readonly buckets: Float64Array;
  readonly latencySum: number;
  readonly latencyCount: number;
  readonly truncated: number;
  readonly dropped: number;
  readonly rateLimited: number;
}

/**
 * Where the per-query metrics come from. The monitor counts in plain numbers on the query path
 * and the metrics read them when scraped: a prom-client `inc`/`observe` hashes its labels on
 * every call, which cost more than everything else `observe` did.
 */
export interface MonitorCountsSource {
  rows(): Iterable<LabelledCounts>;
  transports(): Iterable<TransportCounts>;
  cacheHits(): number;
  cacheMisses(): number;
  queryLogLines(): number;
  /** Upstream queries that got an answer. */
  upstreamOk(): number;
  /** Upstream queries that failed, by reason. */
  upstreamFailures(): Iterable<[reason: string, count: number]>;
  /** Open stream connections, and connections accepted since start. */
  tcpOpen(): number;
  tcpAccepted(): number;
  /** Alerts raised, by finding type. */
  alertsRaised(): Iterable<[type: string, count: number]>;
  /** Queries the detector throttled or blocked, by action and finding type. */
  actionsTaken(): Iterable<[action: string, type: string, count: number]>;
}

/**
 * A histogram by transport whose buckets are counted by the monitor and read when scraped, in
 * prom-client's export format (it is registered as a metric of the registry).
 */
class ScrapedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly labelNames = ['transport'];
  constructor(readonly name: string, readonly help: string, private readonly source: () => Iterable<TransportCounts>) {}

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> }> {
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    for (const t of this.source()) {
      if (t.latencyCount === 0) continue;
      let acc = 0;
      for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
        acc += t.buckets[i]!;
        values.push({ labels: { le: LATENCY_BUCKETS[i]!, transport: t.transport }, value: acc, metricName: this.name + '_bucket' });
      }
      values.push({ labels: { le: '+Inf', transport: t.transport }, value: t.latencyCount, metricName: this.name + '_bucket' });
      values.push({ labels: { transport: t.transport }, value: t.latencySum, metricName: this.name + '_sum' });
      values.push({ labels: { transport: t.transport }, value: t.latencyCount, metricName: this.name + '_count' });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** The counts belong to the monitor; a registry reset does not clear them. */
  reset(): void {}
}

/**
 * Every Prometheus metric of the server, named `portcullis_<concern>_<what>` (DESIGN: naming).
 * Label values are bounded: query types outside a fixed list become "OTHER", and zone/view come
 * from configuration, never from the query. Every value is read from the monitor's plain counts
 * when scraped, so the monitor builds this (and loads prom-client) only when the registry is
 * first asked for.
 */
export class MonitorMetrics {
  readonly registry: Registry;
  readonly queries: Counter<'transport' | 'type' | 'view' | 'zone'>;
  readonly responses: Counter<'transport' | 'rcode' | 'view' | 'zone'>;
  readonly latency: ScrapedHistogram;
  readonly truncated: Counter<'transport'>;
  readonly dropped: Counter<'transport'>;
  readonly rateLimited: Counter<'transport'>;
  readonly cacheHits: Counter;
  readonly cacheMisses: Counter;
  readonly cacheEntries: Gauge;
  readonly cacheHitRatio: Gauge;
  readonly upstreamQueries: Counter<'outcome'>;
  readonly upstreamFailures: Counter<'reason'>;
  readonly tcpConnections: Gauge;
  readonly tcpAccepted: Counter;
  readonly alerts: Counter<'type'>;
  readonly alertsActive: Gauge<'type'>;
  readonly actions: Counter<'action' | 'type'>;
  readonly queryLogLines: Counter;

  constructor(opts: { registry?: Registry; defaultMetrics?: boolean; cacheSize?: () => number; activeAlerts?: () => Record<string, number>; counts: MonitorCountsSource }) {
    const { Counter, Gauge, Registry, collectDefaultMetrics } = promClient();
    const registers = [(this.registry = opts.registry ?? new Registry())];
    // prom-client's names start with process_ or nodejs_: portcullis_process_cpu_seconds_total,
    // portcullis_nodejs_heap_size_used_bytes, ...
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'portcullis_' });
    const src = opts.counts;
    this.queries = new Counter({
      name: 'portcullis_queries_total', help: 'Queries received, by transport, query type, view and zone',
      labelNames: ['transport', 'type', 'view', 'zone'], registers,
      collect() {
        this.reset();
        for (const r of src.rows()) for (const [type, n] of r.types()) this.inc({ transport: r.transport, type, view: r.view, zone: r.zone }, n);
      },
    });
    this.responses = new Counter({
      name: 'portcullis_responses_total', help: 'Responses sent, by transport, rcode, view and zone',
      labelNames: ['transport', 'rcode', 'view', 'zone'], registers,
      collect() {
        this.reset();
        for (const r of src.rows()) for (const [rcode, n] of r.rcodes()) this.inc({ transport: r.transport, rcode, view: r.view, zone: r.zone }, n);
      },
    });
    this.latency = new ScrapedHistogram('portcullis_query_duration_seconds', 'Time from arrival to response, by transport', () => src.transports());
    this.registry.registerMetric(this.latency as never);
    const byTransport = (field: 'truncated' | 'dropped' | 'rateLimited') => function (this: Counter<'transport'>) {
      this.reset();
      for (const t of src.transports()) if (t[field] > 0) this.inc({ transport: t.transport }, t[field]);
    };
    this.truncated = new Counter({ name: 'portcullis_responses_truncated_total', help: 'Responses sent with TC=1', labelNames: ['transport'], registers, collect: byTransport('truncated') });
    this.dropped = new Counter({ name: 'portcullis_responses_dropped_total', help: 'Queries answered with no response at all', labelNames: ['transport'], registers, collect: byTransport('dropped') });
    this.rateLimited = new Counter({ name: 'portcullis_rate_limit_limited_total', help: 'Queries a rate limit slipped or dropped', labelNames: ['transport'], registers, collect: byTransport('rateLimited') });
    this.cacheHits = new Counter({ name: 'portcullis_cache_hits_total', help: 'Recursive queries answered from the cache', registers, collect() { this.reset(); this.inc(src.cacheHits()); } });
    this.cacheMisses = new Counter({ name: 'portcullis_cache_misses_total', help: 'Recursive queries the cache could not answer', registers, collect() { this.reset(); this.inc(src.cacheMisses()); } });
    const cacheSize = opts.cacheSize;
    this.cacheEntries = new Gauge({
      name: 'portcullis_cache_entries', help: 'Entries in the cache', registers,
      collect() { if (cacheSize) this.set(cacheSize()); },
    });
    this.cacheHitRatio = new Gauge({
      name: 'portcullis_cache_hit_ratio', help: 'Cache hits over recursive queries since start', registers,
      collect() {
        const h = src.cacheHits();
        const m = src.cacheMisses();
        this.set(h + m === 0 ? 0 : h / (h + m));
      },
    });
    this.upstreamQueries = new Counter({
      name: 'portcullis_upstream_queries_total', help: 'Queries sent to upstream servers, by outcome', labelNames: ['outcome'], registers,
      collect() {
        this.reset();
        let failed = 0;
        for (const [, n] of src.upstreamFailures()) failed += n;
        if (src.upstreamOk() > 0) this.inc({ outcome: 'ok' }, src.upstreamOk());
        if (failed > 0) this.inc({ outcome: 'failure' }, failed);
      },
    });
    this.upstreamFailures = new Counter({
      name: 'portcullis_upstream_failures_total', help: 'Upstream queries that failed, by reason', labelNames: ['reason'], registers,
      collect() {
        this.reset();
        for (const [reason, n] of src.upstreamFailures()) this.inc({ reason }, n);
      },
    });
    this.tcpConnections = new Gauge({ name: 'portcullis_tcp_connections', help: 'Open TCP/TLS/HTTPS client connections', registers, collect() { this.set(src.tcpOpen()); } });
    this.tcpAccepted = new Counter({ name: 'portcullis_tcp_connections_total', help: 'TCP/TLS/HTTPS client connections accepted', registers, collect() { this.reset(); this.inc(src.tcpAccepted()); } });
    this.alerts = new Counter({
      name: 'portcullis_detection_alerts_total', help: 'Detector findings raised (new alerts), by type', labelNames: ['type'], registers,
      collect() {
        this.reset();
        for (const [type, n] of src.alertsRaised()) this.inc({ type }, n);
      },
    });
    const active = opts.activeAlerts;
    this.alertsActive = new Gauge({
      name: 'portcullis_detection_alerts_active', help: 'Alerts currently listed by /api/alerts, by type', labelNames: ['type'], registers,
      collect() {
        if (!active) return;
        const counts = active();
        for (const t of FINDING_TYPES) this.set({ type: t }, counts[t] ?? 0);
      },
    });
    this.actions = new Counter({
      name: 'portcullis_detection_actions_total', help: 'Queries throttled or blocked by the detector', labelNames: ['action', 'type'], registers,
      collect() {
        this.reset();
        for (const [action, type, n] of src.actionsTaken()) this.inc({ action, type }, n);
      },
    });
    this.queryLogLines = new Counter({ name: 'portcullis_query_log_lines_total', help: 'Query log lines written', registers, collect() { this.reset(); this.inc(src.queryLogLines()); } });
  }
}
