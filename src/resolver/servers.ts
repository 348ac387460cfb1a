import type { Clock } from './types.js';

/** What the resolver remembers about one upstream address. */
interface ServerInfo {
  /** Smoothed RTT and its variance in ms (RFC 6298 style); undefined until measured. */
  srtt?: number;
  rttvar: number;
  /** Consecutive timeouts: each doubles the next timeout (backoff). */
  timeouts: number;
  /** Until when the server is held down after repeated timeouts. */
  downUntil: number;
  /** Until when the server is queried without OPT (it rejected or silently dropped EDNS). */
  noEdnsUntil: number;
  /** The server has answered a query carrying OPT: a timeout is then not blamed on EDNS. */
  ednsOk: boolean;
  /** Zones (keys) this server was found lame for, with expiry. */
  lame: Map<string, number>;
}

export interface SelectionConfig {
  /** Probability of picking a random usable server instead of the fastest (exploration). */
  explore: number;
  /** Bounds of the per-query timeout (ms). */
  minTimeout: number;
  maxTimeout: number;
  /** Timeout for a server never measured (ms). */
  initialTimeout: number;
  /** Hold-down after this many consecutive timeouts. */
  holdDownAfter: number;
  holdDownMs: number;
  lameMs: number;
  /** How long a server that failed EDNS is queried without it before EDNS is tried again. */
  noEdnsMs: number;
}

export const defaultSelection: SelectionConfig = {
  explore: 0.05,
  minTimeout: 200,
  maxTimeout: 5000,
  initialTimeout: 1200,
  holdDownAfter: 3,
  holdDownMs: 60_000,
  lameMs: 15 * 60_000,
  noEdnsMs: 15 * 60_000,
};

/**
 * Server selection by smoothed RTT with a little exploration, per-server timeouts with
 * exponential backoff, hold-down of dead servers and lameness per zone (the "infra cache").
 */
export class ServerSelector {
  private readonly info = new Map<string, ServerInfo>();
  readonly config: SelectionConfig;

  constructor(private readonly clock: Clock, private readonly random: () => number, config: Partial<SelectionConfig> = {}) {
    this.config = { ...defaultSelection, ...config };
  }

  private get(addr: string): ServerInfo {
    let i = this.info.get(addr);
    if (!i) {
      i = { rttvar: 0, timeouts: 0, downUntil: 0, noEdnsUntil: 0, ednsOk: false, lame: new Map() };
      this.info.set(addr, i);
      // Bound memory: forget the oldest entries beyond a generous count.
      if (this.info.size > 10_000) this.info.delete(this.info.keys().next().value as string);
    }
    return i;
  }

  isLame(addr: string, zoneKey: string): boolean {
    const until = this.info.get(addr)?.lame.get(zoneKey);
    return until !== undefined && until > this.clock.now();
  }

  markLame(addr: string, zoneKey: string): void {
    this.get(addr).lame.set(zoneKey, this.clock.now() + this.config.lameMs);
  }

  isDown(addr: string): boolean {
    return (this.info.get(addr)?.downUntil ?? 0) > this.clock.now();
  }

  noEdns(addr: string): boolean {
    return (this.info.get(addr)?.noEdnsUntil ?? 0) > this.clock.now();
  }

  /** Remembers (for `noEdnsMs`) that the server must be asked without OPT. */
  setNoEdns(addr: string): void {
    const i = this.get(addr);
    i.noEdnsUntil = this.clock.now() + this.config.noEdnsMs;
    i.ednsOk = false;
  }

  /** The server answered a query with OPT: EDNS works through to it. */
  setEdnsOk(addr: string): void {
    this.get(addr).ednsOk = true;
  }

  /** True once the server has answered a query with OPT (then a timeout is not blamed on EDNS). */
  ednsOk(addr: string): boolean {
    return this.info.get(addr)?.ednsOk ?? false;
  }

  /** Picks one address: usable ones first (not down, not lame), fastest by SRTT, sometimes random. */
  pick(addrs: readonly string[], zoneKey: string): string | undefined {
    if (addrs.length === 0) return undefined;
    const usable = addrs.filter((a) => !this.isDown(a) && !this.isLame(a, zoneKey));
    const pool = usable.length > 0 ? usable : addrs.filter((a) => !this.isLame(a, zoneKey));
    if (pool.length === 0) return undefined;
    if (pool.length > 1 && this.random() < this.config.explore) return pool[Math.floor(this.random() * pool.length)];
    let best = pool[0]!;
    let bestRtt = this.score(best);
    for (const a of pool.slice(1)) {
      const s = this.score(a);
      if (s < bestRtt) {
        best = a;
        bestRtt = s;
      }
    }
    return best;
  }

  /** Unmeasured servers score as fast so every server gets tried once. */
  private score(addr: string): number {
    const i = this.info.get(addr);
    if (!i || i.srtt === undefined) return 0;
    return i.srtt + i.timeouts * 1000;
  }

  timeoutFor(addr: string): number {
    const i = this.info.get(addr);
    const base = i?.srtt === undefined ? this.config.initialTimeout : i.srtt + 4 * i.rttvar + 50;
    const backed = base * 2 ** Math.min(i?.timeouts ?? 0, 4);
    return Math.round(Math.min(this.config.maxTimeout, Math.max(this.config.minTimeout, backed)));
  }

  recordRtt(addr: string, rtt: number): void {
    const i = this.get(addr);
    if (i.srtt === undefined) {
      i.srtt = rtt;
      i.rttvar = rtt / 2;
    } else {
      i.rttvar = 0.75 * i.rttvar + 0.25 * Math.abs(i.srtt - rtt);
      i.srtt = 0.875 * i.srtt + 0.125 * rtt;
    }
    i.timeouts = 0;
    i.downUntil = 0;
  }

  recordTimeout(addr: string): void {
    const i = this.get(addr);
    i.timeouts++;
    i.srtt = Math.min(this.config.maxTimeout, (i.srtt ?? this.config.initialTimeout) * 2);
    if (i.timeouts >= this.config.holdDownAfter) i.downUntil = this.clock.now() + this.config.holdDownMs;
  }

  /** Smoothed RTT (for tests and metrics). */
  srtt(addr: string): number | undefined {
    return this.info.get(addr)?.srtt;
  }
}
