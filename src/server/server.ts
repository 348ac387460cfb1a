// The running server: config + zones + pipeline + listeners, reload and drain.
import cluster from 'node:cluster';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readFileSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Handler, Step } from '../transport/handler.js';
import { parseListenAddress, type ListenAddress } from '../transport/address.js';
import { UdpListener } from '../transport/udp.js';
import { TcpListener } from '../transport/tcp.js';
import { ZoneSet } from '../authoritative/zone-set.js';
import type { Zone } from '../zone/zone.js';
import { ConfigError, formatIssue, loadConfig, nsidBytes, type Config } from './config.js';
import { FrontStep } from './front.js';
import { composeFastPath, composePipeline } from './pipeline.js';
import { SLOW, type FastHandler } from '../transport/fast.js';
import type { Logger } from './log.js';
import { loadZone, fileSignature, type ZoneLoad } from './zones.js';
import { buildZone } from '../zone/zone.js';
import { isViewKey, Runtime, zoneEntries } from './wiring.js';
import { XfrService } from '../xfr/service.js';

export interface ServerOptions {
  config: Config;
  /** The file the config came from; SIGHUP/reload() reads it again. */
  configFile?: string;
  logger: Logger;
  /** More steps for the pipeline (tests, integrations), placed by their phase. */
  steps?: readonly Step[];
  /** Builds the answer steps for a config; default: the authoritative engine when present. */
  answerSteps?: (server: PortcullisServer, config: Config) => Promise<Step[]>;
}

/** A listener could not bind. `hint` says how to fix it. */
export class BindError extends Error {
  constructor(
    readonly address: ListenAddress,
    readonly proto: 'udp' | 'tcp',
    readonly code: string,
    hint: string,
  ) {
    super(`cannot bind ${address.text} (${proto}): ${hint}`);
    this.name = 'BindError';
  }
}

interface ServedZone {
  readonly zone: Zone;
  readonly file: string;
  readonly signature: string;
}

export interface ReloadResult {
  ok: boolean;
  /** Zones loaded anew, kept, failed (old version kept or not served), removed. */
  loaded: string[];
  kept: string[];
  failed: string[];
  removed: string[];
}

export class PortcullisServer {
  config: Config;
  readonly logger: Logger;
  readonly configFile: string | undefined;
  readonly udp: UdpListener[] = [];
  readonly tcp: TcpListener[] = [];
  private zoneSet = new ZoneSet([]);
  private served = new Map<string, ServedZone>();
  private handler!: Handler;
  private readonly extraSteps: readonly Step[];
  private readonly answerSteps: (server: PortcullisServer, config: Config) => Promise<Step[]>;
  private reloading: Promise<ReloadResult> | undefined;
  private stopping: Promise<void> | undefined;
  /** Monitor, resolver, cookie secret, rate-limit buckets and signers: kept across reloads (wiring.ts). */
  readonly runtime: Runtime;
  /** Transfers, NOTIFY, dynamic update, secondary zones (src/xfr): owns the zones it changes. */
  readonly xfr: XfrService;
  private signTimer: NodeJS.Timeout | undefined;

  /** The current zones; steps call this per request, so a reload swaps them atomically. */
  readonly getZones = (): ZoneSet => this.zoneSet;
  /** What the transports call: one indirection so a reload can swap the whole pipeline. */
  readonly dispatch: Handler = (req) => this.handler(req);
  /** The synchronous fast path of the current pipeline (undefined: every query takes `handler`). */
  private fastHandler: FastHandler | undefined;
  readonly fastDispatch: FastHandler = (q) => (this.fastHandler === undefined ? SLOW : this.fastHandler(q));

  private constructor(opts: ServerOptions) {
    this.config = opts.config;
    this.configFile = opts.configFile;
    this.logger = opts.logger;
    this.extraSteps = opts.steps ?? [];
    this.answerSteps = opts.answerSteps ?? defaultAnswerSteps;
    this.runtime = new Runtime(opts.logger, opts.config);
    this.xfr = new XfrService({
      logger: opts.logger,
      onChange: () => this.publishXfr(),
      // Signed zones: updates are signed before they are journalled (src/xfr).
      signerFor: (origin) => this.runtime.signers.get(origin.key)?.signer,
    });
  }

  /** Loads zones and builds the pipeline; does not bind yet. */
  static async create(opts: ServerOptions): Promise<PortcullisServer> {
    const s = new PortcullisServer(opts);
    await s.loadZones(opts.config, new Map());
    s.handler = await s.buildHandler(opts.config);
    return s;
  }

  /**
   * After the first load of large zones (100,000 records or more), one full garbage collection:
   * loading leaves the heap full of parser garbage that V8 would otherwise keep resident for a
   * long time (about 8% of the resident memory at a million records, for about a second of CPU
   * once). Runs once the server answers (see `settle`): the pause then delays the queries of
   * that moment, once, instead of the start.
   */
  private compactAfterLoad(): void {
    let records = 0;
    for (const { zone } of this.served.values()) records += zone.recordCount;
    if (records < 100_000) return;
    const before = process.memoryUsage().rss;
    const t0 = performance.now();
    if (!collectGarbage()) return;
    const ms = Math.round(performance.now() - t0);
    this.logger.info({ records, rssMb: Math.round(before / 2 ** 20), afterMb: Math.round(process.memoryUsage().rss / 2 ** 20), ms }, 'heap compacted after loading zones');
  }

  /**
   * The work a fresh server leaves until it answers: the zones' canonical order
   * (`prepareZoneOrder`), then one compaction of the heap (`compactAfterLoad`), which then also
   * frees what the sort left behind. `serve` calls it once the listeners are up.
   */
  async settle(): Promise<void> {
    await this.prepareZoneOrder();
    this.compactAfterLoad();
  }

  get zones(): ZoneSet {
    return this.zoneSet;
  }

  /**
   * Puts the nodes of every served zone in canonical order, in slices between queries. A zone
   * answers without that order; transfers, signing and NSEC chains need it and would otherwise
   * sort on first use (about 0.4 s of CPU at a million names). Called once the server is ready
   * (`settle`) and after each reload; zones already sorted cost nothing.
   */
  async prepareZoneOrder(): Promise<void> {
    for (const { zone } of [...this.served.values()]) {
      try {
        await zone.prepareOrder(yieldToLoop);
      } catch (err) {
        this.logger.error({ err, zone: zone.origin.toString() }, 'sorting the zone failed');
      }
    }
  }

  private async buildHandler(config: Config): Promise<Handler> {
    const front = new FrontStep({
      udpSize: config.edns['udp-size'],
      nsid: nsidBytes(config.nsid),
      maxAmplification: config['max-amplification'],
      onError: (err, req) => this.logger.error({ err, qname: req.message.question[0]?.name.toString(), client: req.client.address }, 'step failed; answered SERVFAIL'),
    });
    // The xfr step is a finalize step after the front step: it wraps the chain (TSIG signs final bytes).
    const steps = [front, this.xfr.step, ...(await this.answerSteps(this, config)), ...this.extraSteps];
    this.fastHandler = composeFastPath(steps);
    return composePipeline(steps);
  }

  /** Loads every zone of `config`, reusing `previous` ones whose file did not change. */
  private async loadZones(config: Config, previous: Map<string, ServedZone>): Promise<ReloadResult> {
    const res: ReloadResult = { ok: true, loaded: [], kept: [], failed: [], removed: [] };
    const next = new Map<string, ServedZone>();
    for (const { zc, key } of zoneEntries(config)) {
      if (zc.primaries || zc.catalog === 'produce') continue; // secondary and produced catalog zones: src/xfr makes and serves them
      // key: the origin's, or VIEW\0ORIGIN for a zone written inside a view (wiring.ts)
      const old = previous.get(key);
      const signer = this.runtime.signerFor(key, zc);
      if (old && old.file === zc.file && old.signature === (await fileSignature(zc.file!)) && this.runtime.loadedWith.get(key) === signer) {
        next.set(key, old);
        res.kept.push(zc.name);
        continue;
      }
      let load: ZoneLoad;
      try {
        load = await loadZone(zc, { signer });
      } catch (e) {
        // Signing failures (key files) are zone errors: the old version stays.
        load = { name: zc.name, file: zc.file!, signature: '', errors: [`signing: ${(e as Error).message}`], warnings: [], ms: 0 };
      }
      for (const w of load.warnings) this.logger.warn({ zone: zc.name }, w);
      if (load.zone) {
        next.set(key, { zone: load.zone, file: load.file, signature: load.signature });
        this.runtime.loadedWith.set(key, signer);
        res.loaded.push(zc.name);
        this.logger.info({ zone: zc.name, serial: load.zone.serial, records: load.zone.recordCount, ms: load.ms }, 'zone loaded');
      } else {
        res.ok = false;
        res.failed.push(zc.name);
        for (const e of load.errors.slice(0, 20)) this.logger.error({ zone: zc.name }, e);
        if (old) {
          next.set(key, old);
          this.logger.error({ zone: zc.name, errors: load.errors.length, serial: old.zone.serial }, 'zone has errors; keeping the version already served');
        } else this.logger.error({ zone: zc.name, errors: load.errors.length }, 'zone has errors; not served');
      }
    }
    for (const [key, old] of previous) if (!next.has(key)) res.removed.push(old.zone.origin.toString());
    // The swap: one assignment; requests in flight keep the ZoneSet they already fetched.
    // src/xfr: journal replayed over file zones, secondary copies added (publishXfr).
    await this.xfr.configure(config, [...next].filter(([k]) => !isViewKey(k)).map(([, s]) => s.zone));
    this.served = next;
    this.publishXfr();
    this.runtime.pruneSigners(new Set(next.keys()));
    this.scheduleSigning();
    return res;
  }

  /** Swaps in the zones the xfr service changed (update, transfer in, expiry). */
  private publishXfr(): void {
    this.served = this.xfr.apply(this.served, (zone, prev) => ({ file: prev?.file ?? '', signature: prev?.signature ?? '', zone }));
    this.zoneSet = new ZoneSet([...this.served].filter(([k]) => !isViewKey(k)).map(([, s]) => s.zone));
  }

  /** The served zones by key (origin, or VIEW\0ORIGIN); a new map after every swap. */
  readonly getServed = (): ReadonlyMap<string, { readonly zone: Zone }> => this.served;

  /** Re-signs zones when their signer's refresh is due, and schedules the next pass. */
  private scheduleSigning(): void {
    if (this.signTimer) clearTimeout(this.signTimer);
    this.signTimer = undefined;
    const at = this.runtime.nextRefresh();
    if (at === undefined || this.stopping) return;
    const ms = Math.min(Math.max(1000, at * 1000 - Date.now()), 2 ** 31 - 1);
    this.signTimer = setTimeout(() => this.refreshSignatures(), ms);
    this.signTimer.unref();
  }

  private refreshSignatures(): void {
    const now = Math.floor(Date.now() / 1000);
    const next = new Map(this.served);
    for (const [key, { signer }] of this.runtime.signers) {
      const s = next.get(key);
      const due = signer.refreshAt;
      if (!s || due === undefined || due > now + 1) continue;
      // A zone taking updates or transfers: re-signed through src/xfr (journalled for IXFR).
      if (!isViewKey(key) && this.xfr.resign(s.zone.origin, now)) continue;
      try {
        const zone = buildZone(s.zone.origin, signer.refresh(now).records);
        next.set(key, { ...s, zone });
        this.logger.info({ zone: zone.origin.toString(), serial: zone.serial }, 'zone signatures refreshed');
      } catch (e) {
        this.logger.error({ zone: s.zone.origin.toString(), err: e }, 'signature refresh failed; retrying in a minute');
        this.signTimer = setTimeout(() => this.refreshSignatures(), 60_000);
        this.signTimer.unref();
        return;
      }
    }
    this.served = next;
    this.zoneSet = new ZoneSet([...next].filter(([k]) => !isViewKey(k)).map(([, s]) => s.zone));
    this.scheduleSigning();
  }

  /** Binds every listener (UDP and TCP per plain address). Throws BindError. */
  async bind(): Promise<void> {
    const c = this.config;
    const tcpOpts = {
      idleTimeoutMs: c.tcp['idle-timeout'] * 1000,
      messageTimeoutMs: c.tcp['message-timeout'] * 1000,
      maxConnections: c.tcp['max-connections'],
      maxConnectionsPerClient: c.tcp['max-connections-per-client'],
      maxPipelined: c.tcp['max-pipelined'],
      onError: (err: unknown, where: string) => this.logger.warn({ err, where }, 'transport error'),
    };
    const onError = tcpOpts.onError;
    try {
      for (const text of c.listen) {
        const a = parseListenAddress(text);
        if (a.scheme !== 'dns') {
          this.logger.warn({ listen: text }, `${a.scheme}:// listeners are not yet active; skipped`);
          continue;
        }
        const u = new UdpListener(a, this.dispatch, {
          onError,
          fast: this.fastDispatch,
          // Workers (node:cluster) read the socket the primary opened for this address (it
          // keeps it across worker restarts, when it may no longer bind port 53 itself), passed
          // down as a descriptor; without one (no addon in the primary) the shared dgram socket.
          ...workerSocket(a.text),
        });
        await bindOne(a, 'udp', () => u.start());
        this.udp.push(u);
        // Port 0 (tests): TCP takes the port UDP got.
        const ta = a.port === 0 ? { ...a, port: u.port } : a;
        const t = new TcpListener(ta, this.dispatch, tcpOpts);
        await bindOne(a, 'tcp', () => t.start());
        this.tcp.push(t);
      }
    } catch (e) {
      await this.closeListeners(0);
      throw e;
    }
  }

  /** Bound addresses as `host:port/proto`, for the ready line. */
  get boundAddresses(): string[] {
    return [
      ...this.udp.map((u) => `${formatBound(u.address, u.port)}/udp`),
      ...this.tcp.map((t) => `${formatBound(t.address, t.port)}/tcp`),
    ];
  }

  /**
   * When running as root with `user:` set: switch to that user and its groups. Call after
   * bind(). Returns what happened, for the log.
   */
  dropPrivileges(): string {
    const user = this.config.user;
    const isRoot = process.getuid?.() === 0;
    if (!isRoot) return user ? `not root; "user: ${user}" has nothing to do` : 'not root';
    if (!user) return 'running as root: set "user:" to drop privileges after binding';
    const entry = lookupUser(user);
    if (!entry) throw new Error(`user "${user}" not found in /etc/passwd`);
    process.setgroups?.([entry.gid]); // drop root's supplementary groups
    process.setgid!(entry.gid);
    process.setuid!(entry.uid);
    return `dropped privileges to ${user} (uid ${entry.uid}, gid ${entry.gid})`;
  }

  /**
   * Re-reads the config file and the zones whose file changed. A broken config changes
   * nothing; a broken zone keeps its old version. Listener changes need a restart.
   */
  reload(): Promise<ReloadResult> {
    // Reloads run one at a time; a SIGHUP during a reload waits for it and runs once more.
    const run = (this.reloading ?? Promise.resolve()).catch(() => undefined).then(() => this.doReload());
    this.reloading = run;
    return run;
  }

  private async doReload(): Promise<ReloadResult> {
    let config = this.config;
    if (this.configFile) {
      try {
        config = await loadConfig(this.configFile);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        for (const i of e.issues) this.logger.error(formatIssue(i));
        this.logger.error('config has errors; reload skipped, still serving the previous config');
        return { ok: false, loaded: [], kept: [], failed: ['config'], removed: [] };
      }
      for (const key of ['listen', 'user', 'workers', 'control'] as const)
        if (JSON.stringify(config[key]) !== JSON.stringify(this.config[key])) this.logger.warn({ key }, `"${key}" changed: takes effect after a restart`);
    }
    const res = await this.loadZones(config, this.served);
    this.handler = await this.buildHandler(config);
    this.config = config;
    this.logger.info({ loaded: res.loaded, kept: res.kept, failed: res.failed, removed: res.removed, zones: this.zoneSet.size }, 'reloaded');
    void this.prepareZoneOrder();
    return res;
  }

  /** Stops accepting, lets queries in flight finish (at most `graceMs`), closes. */
  stop(graceMs = 5000): Promise<void> {
    if (this.signTimer) clearTimeout(this.signTimer);
    // Then src/xfr writes changed zone files and closes journals.
    this.stopping ??= this.closeListeners(graceMs).then(() => this.xfr.stop()).then(() => this.runtime.close());

    return this.stopping;
  }

  private async closeListeners(graceMs: number): Promise<void> {
    await Promise.all([...this.udp.map((u) => u.close(graceMs)), ...this.tcp.map((t) => t.close(graceMs))]);
  }
}

/** The configured steps (wiring.ts): policy, views, our zones, the resolver, the monitor. */
async function defaultAnswerSteps(server: PortcullisServer, config: Config): Promise<Step[]> {
  // A changed dnstap section closes the old output before the new one opens (same file).
  await server.runtime.configureDnstap(config);
  return server.runtime.steps({ config, logger: server.logger, served: server.getServed }, config);
}


async function bindOne(a: ListenAddress, proto: 'udp' | 'tcp', start: () => Promise<void>): Promise<void> {
  try {
    await start();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'UNKNOWN';
    throw new BindError(a, proto, code, bindHint(a, code));
  }
}

export function bindHint(a: ListenAddress, code: string): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return a.port < 1024
        ? `permission denied: ports below 1024 need privileges. Either start as root with "user:" set in the config ` +
            `(privileges are dropped right after binding), or let node bind low ports once with ` +
            `"sudo setcap cap_net_bind_service=+ep $(which node)", or listen on a port of 1024 or more (e.g. ${a.family === 6 ? `[${a.host}]` : a.host}:5353).`
        : 'permission denied';
    case 'EADDRINUSE':
      return 'address already in use (another DNS server running? see "ss -lunp sport = :' + a.port + '")';
    case 'EADDRNOTAVAIL':
      return 'address not available: no interface of this host has it';
    case 'EAFNOSUPPORT':
      return 'address family not supported (IPv6 disabled?)';
    default:
      return code;
  }
}

function formatBound(a: ListenAddress, port: number): string {
  return a.family === 6 ? `[${a.host}]:${port}` : `${a.host}:${port}`;
}

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

/**
 * The UDP socket options of a worker for one listen address: the descriptor the primary passed
 * down (PORTCULLIS_UDP_FDS, set by `serve`), or dgram through node:cluster when there is none.
 */
function workerSocket(listen: string): { fd?: number; batched?: boolean } {
  if (!cluster.isWorker) return {};
  const fds = process.env.PORTCULLIS_UDP_FDS;
  const fd = fds ? (JSON.parse(fds) as Record<string, number>)[listen] : undefined;
  return fd !== undefined ? { fd } : { batched: false };
}

/**
 * One full garbage collection now. Node exposes gc() only with --expose-gc; the flag is set
 * here and the function read from a fresh context, so `portcullis serve` needs no node flags.
 * False when that is not possible.
 */
function collectGarbage(): boolean {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc !== 'function') return false;
    (gc as () => void)();
    return true;
  } catch {
    return false;
  }
}
