// The running server as the control API sees it (src/control/provider.ts): status, stats,
// zones, alerts, reload (the SIGHUP path) and the resolver cache.
import { ControlError, startControl, type CacheEntry, type ControlProvider, type ControlServer, type ReloadResult, type ZoneInfo } from '../control/index.js';
import type { Alert } from '../monitor/index.js';
import { Name, RRType, recordToText, typeFromString, typeToString } from '../wire/index.js';
import type { PortcullisServer } from './server.js';
import { isViewKey } from './wiring.js';

export class ServerControl implements ControlProvider {
  private readonly started = Date.now();
  private tcpTimer: NodeJS.Timeout | undefined;
  private tcpAccepted = 0;
  private tcpOpen = 0;

  constructor(
    private readonly server: PortcullisServer,
    private readonly info: { version?: string; workers?: number } = {},
  ) {}

  /** Feeds TCP connection counts from the listeners to the monitor (once a second, and on demand). */
  startTcpCounts(): void {
    this.tcpTimer = setInterval(() => this.syncTcp(), 1000);
    this.tcpTimer.unref();
  }

  stop(): void {
    if (this.tcpTimer) clearInterval(this.tcpTimer);
  }

  syncTcp(): void {
    const m = this.server.runtime.monitor;
    let accepted = 0;
    let open = 0;
    for (const t of this.server.tcp) {
      accepted += t.stats.accepted;
      open += t.connections.size;
    }
    const fresh = Math.max(0, accepted - this.tcpAccepted);
    for (let i = 0; i < fresh; i++) m.tcpConnection(1);
    const closed = Math.max(0, this.tcpOpen + fresh - open);
    for (let i = 0; i < closed; i++) m.tcpConnection(-1);
    this.tcpAccepted = accepted;
    this.tcpOpen = open;
  }

  status(): Record<string, unknown> {
    const s = this.server;
    return {
      version: this.info.version,
      pid: process.pid,
      uptimeSeconds: Math.round((Date.now() - this.started) / 1000),
      configFile: s.configFile ?? null,
      listen: s.boundAddresses,
      workers: this.info.workers ?? s.config.workers,
      zones: s.zones.size + [...s.getServed().keys()].filter(isViewKey).length,
      views: s.config.views?.map((v) => v.name) ?? [],
      recursion: s.runtime.resolver !== undefined,
      rateLimit: s.runtime.limiter !== undefined,
      cookies: s.runtime.cookies !== undefined,
    };
  }

  stats(): Record<string, unknown> {
    this.syncTcp();
    const rt = this.server.runtime;
    const r = rt.resolver;
    return {
      ...rt.monitor.stats(),
      ...(r ? { resolver: { ...r.stats, cache: { ...r.cache.stats, entries: r.cache.size } }, validator: r.validator?.stats } : {}),
      ...(rt.limiter ? { rateLimit: { ...rt.limiter.stats, buckets: rt.limiter.bucketCount } } : {}),
      ...(rt.cookieStep ? { cookies: { checked: rt.cookieStep.checked, valid: rt.cookieStep.valid } } : {}),
      listeners: {
        udp: this.server.udp.map((u) => ({ address: `${u.address.text}`, ...u.stats })),
        tcp: this.server.tcp.map((t) => ({ address: `${t.address.text}`, open: t.connections.size, ...t.stats })),
      },
    };
  }

  zones(): ZoneInfo[] {
    const out: ZoneInfo[] = [];
    const signed = this.server.runtime.signers;
    for (const [key, s] of this.server.getServed()) {
      const view = isViewKey(key) ? key.slice(0, key.indexOf('\u0000')) : undefined;
      out.push({
        name: s.zone.origin.toString(),
        serial: s.zone.serial,
        kind: signed.has(key) ? 'primary (signed)' : s.zone.signed ? 'primary (pre-signed)' : 'primary',
        records: s.zone.recordCount,
        ...(view !== undefined ? { view } : {}),
      });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : (a.view ?? '') < (b.view ?? '') ? -1 : 1));
  }

  alerts(): Alert[] {
    return this.server.runtime.monitor.alerts();
  }

  async reload(): Promise<ReloadResult> {
    const r = await this.server.reload();
    const message = r.ok
      ? `reloaded: ${r.loaded.length} loaded, ${r.kept.length} kept, ${r.removed.length} removed`
      : `reload had errors: ${r.failed.join(', ')} (see the server log)`;
    return { ...r, message };
  }

  flushCache(name?: string): { flushed: number } {
    if (!this.server.runtime.resolver) throw new ControlError(409, 'recursion is not configured: there is no cache');
    try {
      return { flushed: this.server.runtime.flushCache(name) };
    } catch (e) {
      throw new ControlError(400, `bad name: ${(e as Error).message}`);
    }
  }

  cacheLookup(name: string, type: string): CacheEntry[] {
    if (!this.server.runtime.resolver) throw new ControlError(409, 'recursion is not configured: there is no cache');
    const t = typeFromString(type);
    if (t === undefined) throw new ControlError(400, `unknown type "${type}"`);
    let hit;
    try {
      Name.parse(name.endsWith('.') ? name : name + '.');
      hit = this.server.runtime.cacheLookup(name, t);
    } catch (e) {
      throw new ControlError(400, `bad name: ${(e as Error).message}`);
    }
    if (!hit) return [];
    const e = hit.entry;
    return [
      {
        name: e.name.toString(),
        type: typeToString(e.type === RRType.ANY ? t : e.type),
        ttl: hit.remaining,
        records: hit.rrs.map((rr) => recordToText(rr)),
        ...(e.kind !== 'rrset' ? { negative: e.kind === 'nxdomain' ? 'NXDOMAIN' : 'NODATA' } : {}),
      },
    ];
  }
}

/** Starts the control API for a server when its config has a `control:` section. */
export async function startServerControl(server: PortcullisServer, info: { version?: string; workers?: number } = {}): Promise<{ control: ControlServer; provider: ServerControl } | undefined> {
  const c = server.config.control;
  if (!c) return undefined;
  const provider = new ServerControl(server, info);
  const control = await startControl({ listen: c.listen, token: c.token, tokenFile: c['token-file'], provider, metrics: () => server.runtime.monitor.metrics });
  provider.startTcpCounts();
  return { control, provider };
}
