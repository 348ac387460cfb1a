// The running server: config + zones + pipeline + listeners, reload and drain.
import { readFileSync } from 'node:fs';
import type { Handler, Step } from '../transport/handler.js';
import { parseListenAddress, type ListenAddress } from '../transport/address.js';
import { UdpListener } from '../transport/udp.js';
import { TcpListener } from '../transport/tcp.js';
import { ZoneSet } from '../authoritative/zone-set.js';
import { AuthoritativeStep } from '../authoritative/step.js';
import type { Zone } from '../zone/zone.js';
import { ConfigError, formatIssue, loadConfig, nsidBytes, type Config } from './config.js';
import { FrontStep } from './front.js';
import { composePipeline } from './pipeline.js';
import type { Logger } from './log.js';
import { loadZone, fileSignature, zoneOrigin, type ZoneLoad } from './zones.js';

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

  /** The current zones; steps call this per request, so a reload swaps them atomically. */
  readonly getZones = (): ZoneSet => this.zoneSet;
  /** What the transports call: one indirection so a reload can swap the whole pipeline. */
  readonly dispatch: Handler = (req) => this.handler(req);

  private constructor(opts: ServerOptions) {
    this.config = opts.config;
    this.configFile = opts.configFile;
    this.logger = opts.logger;
    this.extraSteps = opts.steps ?? [];
    this.answerSteps = opts.answerSteps ?? defaultAnswerSteps;
  }

  /** Loads zones and builds the pipeline; does not bind yet. */
  static async create(opts: ServerOptions): Promise<PortcullisServer> {
    const s = new PortcullisServer(opts);
    await s.loadZones(opts.config, new Map());
    s.handler = await s.buildHandler(opts.config);
    return s;
  }

  get zones(): ZoneSet {
    return this.zoneSet;
  }

  private async buildHandler(config: Config): Promise<Handler> {
    const front = new FrontStep({
      udpSize: config.edns['udp-size'],
      nsid: nsidBytes(config.nsid),
      onError: (err, req) => this.logger.error({ err, qname: req.message.question[0]?.name.toString(), client: req.client.address }, 'step failed; answered SERVFAIL'),
    });
    return composePipeline([front, ...(await this.answerSteps(this, config)), ...this.extraSteps]);
  }

  /** Loads every zone of `config`, reusing `previous` ones whose file did not change. */
  private async loadZones(config: Config, previous: Map<string, ServedZone>): Promise<ReloadResult> {
    const res: ReloadResult = { ok: true, loaded: [], kept: [], failed: [], removed: [] };
    const next = new Map<string, ServedZone>();
    for (const zc of config.zones) {
      if (zc.primaries) {
        this.logger.warn({ zone: zc.name }, 'secondary zones are not yet active; zone not served');
        continue;
      }
      const key = zoneOrigin(zc.name).key;
      const old = previous.get(key);
      if (old && old.file === zc.file && old.signature === (await fileSignature(zc.file!))) {
        next.set(key, old);
        res.kept.push(zc.name);
        continue;
      }
      const load: ZoneLoad = await loadZone(zc);
      for (const w of load.warnings) this.logger.warn({ zone: zc.name }, w);
      if (load.zone) {
        next.set(key, { zone: load.zone, file: load.file, signature: load.signature });
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
    this.served = next;
    this.zoneSet = new ZoneSet([...next.values()].map((s) => s.zone));
    return res;
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
        const u = new UdpListener(a, this.dispatch, { onError });
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
      for (const key of ['listen', 'user', 'workers'] as const)
        if (JSON.stringify(config[key]) !== JSON.stringify(this.config[key])) this.logger.warn({ key }, `"${key}" changed: takes effect after a restart`);
    }
    const res = await this.loadZones(config, this.served);
    this.handler = await this.buildHandler(config);
    this.config = config;
    this.logger.info({ loaded: res.loaded, kept: res.kept, failed: res.failed, removed: res.removed, zones: this.zoneSet.size }, 'reloaded');
    return res;
  }

  /** Stops accepting, lets queries in flight finish (at most `graceMs`), closes. */
  stop(graceMs = 5000): Promise<void> {
    this.stopping ??= this.closeListeners(graceMs);
    return this.stopping;
  }

  private async closeListeners(graceMs: number): Promise<void> {
    await Promise.all([...this.udp.map((u) => u.close(graceMs)), ...this.tcp.map((t) => t.close(graceMs))]);
  }
}

async function defaultAnswerSteps(server: PortcullisServer, config: Config): Promise<Step[]> {
  const steps: Step[] = [];
  const id = config.identity;
  steps.push(new AuthoritativeStep(server.getZones, { identity: { version: id.version, hostname: id.hostname, serverId: id['server-id'] } }));
  return steps;
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
