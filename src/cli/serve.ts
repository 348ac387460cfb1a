// `portcullis serve`: runs in the foreground until SIGTERM/SIGINT; SIGHUP reloads.
import cluster, { type Worker } from 'node:cluster';
import { ConfigError, DEFAULT_CONFIG_TEXT, formatIssue, loadConfig, parseConfigText, type Config } from '../server/config.js';
import { createLogger, type Logger } from '../server/log.js';
import { bindHint, BindError, PortcullisServer } from '../server/server.js';
import { parseListenAddress } from '../transport/address.js';
import { DEFAULT_BUFFER_SIZE } from '../transport/udp.js';
import { isIP } from 'node:net';
import type { Step } from '../transport/handler.js';
import { selfAudit } from '../server/self-audit.js';
import { startServerControl } from '../server/control.js';
import { loadNativeUdp, nativeUdpStatus } from '../transport/udp-native.js';

export interface ServeOptions {
  config?: string;
  /** Extra pipeline steps (tests). */
  steps?: Step[];
  /** Shown by the control API's status. */
  version?: string;
  stderr?: { write(s: string): unknown };
}

/** Exit codes (CONTRACT.md): 0 success, 1 invalid input, 2 runtime failure. */
export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_RUNTIME = 2;

type WorkerMessage = { type: 'ready'; addresses: string[] } | { type: 'bind-failed'; message: string };

/** Runs the server; resolves with the process exit code once it has stopped. */
export async function serveCommand(opts: ServeOptions = {}): Promise<number> {
  const stderr = opts.stderr ?? process.stderr;
  let config: Config;
  try {
    config = opts.config ? await loadConfig(opts.config) : parseConfigText(DEFAULT_CONFIG_TEXT, '<embedded default>');
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const i of e.issues) stderr.write(formatIssue(i) + '\n');
    return EXIT_INVALID;
  }
  const logger = createLogger({ level: config.log.level });
  if (!opts.config) logger.info('no --config: embedded default (127.0.0.1:5353, recursion for loopback clients)');
  // Self-audit once per process tree (workers would repeat it).
  const audit = selfAudit(config);
  if (cluster.isPrimary) for (const w of audit.warnings) logger.warn({ check: w.check, detail: w.message }, 'self-audit');
  if (audit.fatal) {
    logger.fatal({ check: audit.fatal.check, detail: audit.fatal.message }, 'self-audit');
    stderr.write(`portcullis: refusing to start: ${audit.fatal.message}\n`);
    return EXIT_INVALID;
  }
  if (config.workers > 1 && cluster.isPrimary) return runPrimary(config, logger);
  return runServer(config, opts, logger);
}

async function runServer(config: Config, opts: ServeOptions, logger: Logger): Promise<number> {
  const inWorker = cluster.isWorker;
  let server: PortcullisServer;
  try {
    server = await PortcullisServer.create({ config, configFile: opts.config, logger, steps: opts.steps });
  } catch (e) {
    // Files the config points at (trust anchors, root hints, cookie secret) that cannot be used.
    logger.fatal({ err: e }, `cannot start: ${(e as Error).message}`);
    if (inWorker) process.send?.({ type: 'bind-failed', message: (e as Error).message } satisfies WorkerMessage);
    return EXIT_INVALID;
  }
  try {
    await server.bind();
  } catch (e) {
    if (!(e instanceof BindError)) throw e;
    logger.fatal({ listen: e.address.text, proto: e.proto, code: e.code }, e.message);
    if (inWorker) process.send?.({ type: 'bind-failed', message: e.message } satisfies WorkerMessage);
    return EXIT_RUNTIME;
  }
  // The control API: in one process only (with workers, the first one).
  let control: Awaited<ReturnType<typeof startServerControl>>;
  if (!inWorker || process.env.PORTCULLIS_WORKER_INDEX === '0') {
    try {
      control = await startServerControl(server, { workers: config.workers, version: opts.version });

      if (control) logger.info({ url: control.control.url }, 'control API, /metrics and dashboard');
    } catch (e) {
      logger.fatal({ err: e, listen: config.control?.listen }, `cannot start the control API on ${config.control?.listen}: ${(e as Error).message}`);
      if (inWorker) process.send?.({ type: 'bind-failed', message: (e as Error).message } satisfies WorkerMessage);
      await server.stop(0);
      return EXIT_RUNTIME;
    }
  }
  try {
    logger.info(server.dropPrivileges());
  } catch (e) {
    logger.fatal({ err: e }, `cannot drop privileges: ${(e as Error).message}`);
    await control?.control.close();
    await server.stop(0);
    return EXIT_RUNTIME;
  }
  const addresses = server.boundAddresses;
  if (inWorker) {
    process.send?.({ type: 'ready', addresses } satisfies WorkerMessage);
    logger.info({ worker: cluster.worker?.id, listen: addresses }, 'worker ready');
  } else logger.info({ listen: addresses, zones: server.zones.size, workers: 1, udp: udpIo() }, 'ready');
  void server.settle();

  return new Promise<number>((resolve) => {
    const onHup = () => {
      logger.info('SIGHUP: reloading');
      server.reload().catch((err) => logger.error({ err }, 'reload failed'));
    };
    const onStop = (sig: string) => {
      logger.info({ signal: sig }, 'draining');
      process.off('SIGHUP', onHup);
      control?.provider.stop();
      Promise.all([server.stop(), control?.control.close()]).then(
        () => {
          logger.info('stopped');
          resolve(EXIT_OK);
        },
        (err) => {
          logger.error({ err }, 'error while stopping');
          resolve(EXIT_RUNTIME);
        },
      );
    };
    process.on('SIGHUP', onHup);
    process.once('SIGTERM', onStop);
    process.once('SIGINT', onStop);
    // In a worker the primary asks for shutdown with a message (signals go to the primary).
    if (inWorker) process.on('message', (m: unknown) => (m === 'shutdown' ? onStop('shutdown') : m === 'reload' ? onHup() : undefined));
  });
}

/**
 * `workers: N`: the primary forks N workers that run the same server. Listening sockets are
 * created by the primary and shared (node:cluster): every worker reads the same UDP socket
 * (the kernel gives each datagram to one of them); TCP connections are accepted by the
 * primary and handed to workers round-robin.
 */
async function runPrimary(config: Config, logger: Logger): Promise<number> {
  const n = config.workers;
  let udp: PrimaryUdp;
  try {
    udp = openPrimaryUdp(config, n);
  } catch (e) {
    if (!(e instanceof BindError)) throw e;
    logger.fatal({ listen: e.address.text, proto: e.proto, code: e.code }, e.message);
    return EXIT_RUNTIME;
  }

  const ready = new Set<number>();
  let stopping = false;
  let failed = false;
  let restarts = 0;
  return new Promise<number>((resolve) => {
    const finish = (code: number) => {
      process.off('SIGHUP', onHup);
      resolve(code);
    };
    const stopAll = (code: number) => {
      if (stopping) return;
      stopping = true;
      const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
      if (live.length === 0) return finish(code);
      let left = live.length;
      for (const w of live) {
        w.once('exit', () => --left === 0 && finish(failed ? EXIT_RUNTIME : code));
        w.send('shutdown');
      }
    };
    const fork = (index: number) => {
      // Index 0 runs the control API; a replacement keeps the index of the worker it replaces.
      // Worker `index` (and any replacement of it) inherits its own sockets as descriptors
      // 4, 5, ... after stdin, stdout, stderr and the IPC channel.
      if (udp.fds.length) cluster.setupPrimary({ stdio: [0, 1, 2, 'ipc', ...udp.fds[index]!] });
      const w = cluster.fork({ PORTCULLIS_WORKER_INDEX: String(index), PORTCULLIS_UDP_FDS: udp.env });
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') {
          ready.add(w.id);
          if (ready.size === n) {
            logger.info({ listen: m.addresses, workers: n, udp: udp.fds.length ? 'batched (one SO_REUSEPORT socket per worker, held by the primary)' : 'dgram (the socket of the primary, shared by the workers)' }, 'ready');
            try {
              // The primary holds the shared sockets; after they are bound it needs no root either.
              if (config.user && process.getuid?.() === 0) {
                process.setgroups?.([]);
                process.setuid!(config.user);
              }
            } catch (err) {
              logger.warn({ err }, 'primary could not drop privileges');
            }
          }
        } else if (m.type === 'bind-failed') {
          failed = true;
          stopAll(EXIT_RUNTIME);
        }
      });
      w.on('exit', (code, signal) => {
        ready.delete(w.id);
        if (stopping) return;
        if (code === EXIT_RUNTIME || code === EXIT_INVALID) {
          failed = true;
          logger.fatal({ worker: w.id, code }, 'worker failed to start');
          return stopAll(code);
        }
        // A crashed worker is replaced, a bounded number of times.
        logger.error({ worker: w.id, code, signal }, 'worker died');
        if (++restarts > 10) return stopAll(EXIT_RUNTIME);
        fork(index);
      });
    };
    const onHup = () => {
      logger.info('SIGHUP: reloading workers');
      for (const w of Object.values(cluster.workers ?? {})) w?.send('reload');
    };
    process.on('SIGHUP', onHup);
    process.once('SIGTERM', () => stopAll(EXIT_OK));
    process.once('SIGINT', () => stopAll(EXIT_OK));
    for (let i = 0; i < n; i++) fork(i);

  });
}

const primarySockets: unknown[] = [];

interface PrimaryUdp {
  /** Per worker index, the descriptors to pass down, in listen order. */
  fds: number[][];
  /** PORTCULLIS_UDP_FDS for the workers: listen address → descriptor number in the worker. */
  env: string;
}

/**
 * With the batched addon, the primary opens the UDP sockets of the workers: per plain listen
 * address, one socket per worker, all bound with SO_REUSEPORT so the kernel spreads queries
 * over them (no worker wakes for another's datagram). The primary holds them for its lifetime,
 * so a worker restarted after root was dropped still reads port 53. First one socket without
 * SO_REUSEPORT is bound and closed again: if another server holds the port, that fails with
 * EADDRINUSE, as it would without workers (sockets of one user may otherwise share a port).
 * Port 0 and names stay with the workers' dgram path.
 */
function openPrimaryUdp(config: Config, workers: number): PrimaryUdp {
  const native = loadNativeUdp();
  const out: PrimaryUdp = { fds: [], env: '' };
  if (!native) return out;
  const map: Record<string, number> = {};
  const perWorker: number[][] = Array.from({ length: workers }, () => []);
  for (const text of config.listen) {
    const a = parseListenAddress(text);
    if (a.scheme !== 'dns' || a.port === 0 || isIP(a.host) === 0) continue;
    try {
      native.close(native.open(a.family, a.host, a.port, 0, false));
      for (let w = 0; w < workers; w++) {
        const h = native.open(a.family, a.host, a.port, DEFAULT_BUFFER_SIZE, true);
        perWorker[w]!.push(native.fileno(h));
        // Held for the process's lifetime: a collected handle would close its descriptor.
        primarySockets.push(h);
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'UNKNOWN';
      throw new BindError(a, 'udp', code, bindHint(a, code));
    }
    map[a.text] = 4 + Object.keys(map).length;
  }
  if (Object.keys(map).length) {
    out.fds = perWorker;
    out.env = JSON.stringify(map);
  }
  return out;
}

/** How UDP sockets do their I/O here: "batched" (the recvmmsg/sendmmsg addon) or why not. */
function udpIo(): string {
  const s = nativeUdpStatus();
  return s.batched ? 'batched' : `dgram (${s.detail})`;
}
