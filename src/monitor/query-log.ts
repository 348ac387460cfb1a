import type { Logger } from 'pino';
import { rcodeToString, typeToString } from '../wire/index.js';
import { queryLogSchema, type QueryLogConfigInput } from './config.js';
import type { ClientMapper } from './privacy.js';
import type { QueryEvent } from './types.js';

export type QueryLogMode = 'on' | 'sampled' | 'off';

/**
 * The query log: one structured line per query (`"msg":"query"`), every query, a sample, or none.
 * Sampling uses a counter, not a random draw, so the logged share is exact and the output
 * reproducible: with sample-rate 0.01 every 100th query is logged.
 */
export class QueryLog {
  private mode: QueryLogMode = 'off';
  private every = 1;
  private seen = 0;
  written = 0;

  constructor(
    private readonly logger: Logger,
    private readonly mapClient: ClientMapper,
    config: QueryLogConfigInput = {},
  ) {
    this.configure(config);
  }

  configure(config: QueryLogConfigInput): void {
    const c = queryLogSchema.parse(config);
    this.mode = c.mode;
    this.every = Math.max(1, Math.round(1 / c['sample-rate']));
  }

  get currentMode(): QueryLogMode {
    return this.mode;
  }

  get enabled(): boolean {
    return this.mode !== 'off';
  }

  /** Returns true when a line was written. */
  write(e: QueryEvent): boolean {
    if (this.mode === 'off') return false;
    if (this.mode === 'sampled' && ++this.seen % this.every !== 0) return false;
    this.logger.info(
      {
        client: this.mapClient(e.client),
        transport: e.transport,
        qname: typeof e.qname === 'string' ? e.qname : e.qname.toString(),
        qtype: typeToString(e.qtype),
        rcode: e.flags.dropped ? 'DROPPED' : rcodeToString(e.rcode),
        bytesIn: e.bytesIn,
        bytesOut: e.bytesOut,
        latencyMs: Math.round(e.latencyMs * 1000) / 1000,
        ...(e.zone !== undefined ? { zone: e.zone } : {}),
        ...(e.view !== undefined ? { view: e.view } : {}),
        ...(e.flags.cached ? { cached: true } : {}),
        ...(e.flags.tc ? { tc: true } : {}),
        ...(e.flags.rateLimited ? { rateLimited: true } : {}),
      },
      'query',
    );
    this.written++;
    return true;
  }
}
