import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { FINDING_TYPES } from './types.js';

/**
 * Every Prometheus metric of the server, named `portcullis_<concern>_<what>` (DESIGN: naming).
 * Label values are bounded: query types outside a fixed list become "OTHER", and zone/view come
 * from configuration, never from the query.
 */
export class MonitorMetrics {
  readonly registry: Registry;
  readonly queries: Counter<'transport' | 'type' | 'view' | 'zone'>;
  readonly responses: Counter<'transport' | 'rcode' | 'view' | 'zone'>;
  readonly latency: Histogram<'transport'>;
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

  constructor(opts: { registry?: Registry; defaultMetrics?: boolean; cacheSize?: () => number; activeAlerts?: () => Record<string, number> } = {}) {
    const registers = [(this.registry = opts.registry ?? new Registry())];
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'portcullis_process_' });
    this.queries = new Counter({
      name: 'portcullis_queries_total', help: 'Queries received, by transport, query type, view and zone',
      labelNames: ['transport', 'type', 'view', 'zone'], registers,
    });
    this.responses = new Counter({
      name: 'portcullis_responses_total', help: 'Responses sent, by transport, rcode, view and zone',
      labelNames: ['transport', 'rcode', 'view', 'zone'], registers,
    });
    this.latency = new Histogram({
      name: 'portcullis_query_duration_seconds', help: 'Time from arrival to response, by transport',
      labelNames: ['transport'], registers,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    });
    this.truncated = new Counter({ name: 'portcullis_responses_truncated_total', help: 'Responses sent with TC=1', labelNames: ['transport'], registers });
    this.dropped = new Counter({ name: 'portcullis_responses_dropped_total', help: 'Queries answered with no response at all', labelNames: ['transport'], registers });
    this.rateLimited = new Counter({ name: 'portcullis_rate_limit_limited_total', help: 'Queries a rate limit slipped or dropped', labelNames: ['transport'], registers });
    this.cacheHits = new Counter({ name: 'portcullis_cache_hits_total', help: 'Recursive queries answered from the cache', registers });
    this.cacheMisses = new Counter({ name: 'portcullis_cache_misses_total', help: 'Recursive queries the cache could not answer', registers });
    const cacheSize = opts.cacheSize;
    this.cacheEntries = new Gauge({
      name: 'portcullis_cache_entries', help: 'Entries in the cache', registers,
      collect() { if (cacheSize) this.set(cacheSize()); },
    });
    const hits = this.cacheHits;
    const misses = this.cacheMisses;
    this.cacheHitRatio = new Gauge({
      name: 'portcullis_cache_hit_ratio', help: 'Cache hits over recursive queries since start', registers,
      async collect() {
        const h = (await hits.get()).values[0]?.value ?? 0;
        const m = (await misses.get()).values[0]?.value ?? 0;
        this.set(h + m === 0 ? 0 : h / (h + m));
      },
    });
    this.upstreamQueries = new Counter({ name: 'portcullis_upstream_queries_total', help: 'Queries sent to upstream servers, by outcome', labelNames: ['outcome'], registers });
    this.upstreamFailures = new Counter({ name: 'portcullis_upstream_failures_total', help: 'Upstream queries that failed, by reason', labelNames: ['reason'], registers });
    this.tcpConnections = new Gauge({ name: 'portcullis_tcp_connections', help: 'Open TCP/TLS/HTTPS client connections', registers });
    this.tcpAccepted = new Counter({ name: 'portcullis_tcp_connections_total', help: 'TCP/TLS/HTTPS client connections accepted', registers });
    this.alerts = new Counter({ name: 'portcullis_detection_alerts_total', help: 'Detector findings raised (new alerts), by type', labelNames: ['type'], registers });
    const active = opts.activeAlerts;
    this.alertsActive = new Gauge({
      name: 'portcullis_detection_alerts_active', help: 'Alerts currently listed by /api/alerts, by type', labelNames: ['type'], registers,
      collect() {
        if (!active) return;
        const counts = active();
        for (const t of FINDING_TYPES) this.set({ type: t }, counts[t] ?? 0);
      },
    });
    this.actions = new Counter({ name: 'portcullis_detection_actions_total', help: 'Queries throttled or blocked by the detector', labelNames: ['action', 'type'], registers });
    this.queryLogLines = new Counter({ name: 'portcullis_query_log_lines_total', help: 'Query log lines written', registers });
  }
}
