// Starts DNS daemons (the Debian peers and Portcullis itself) for interop tests: each gets a
// fresh temp dir with its config and zones, runs in the foreground on a loopback address and a
// high port, and is only handed to the test once it answers a query.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsc, copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { query, type ServerAddress } from './query.js';

/** A zone to serve: copied from `file`, or written from `text`. */
export interface ZoneSpec {
  readonly name: string;
  readonly file?: string;
  readonly text?: string;
}

export interface RunningServer extends ServerAddress {
  readonly name: string;
  /** The temp dir holding config, zones and state. */
  readonly dir: string;
  /** What the daemon wrote to stdout/stderr so far (bounded). */
  output(): string;
  /** Kills the daemon (SIGTERM, then SIGKILL) and waits for it; removes the temp dir. */
  stop(): Promise<void>;
}

const isCI = process.env.CI === 'true';
const SEARCH = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** Absolute path of a binary on PATH (or the sbin dirs), undefined when absent. */
export function findBinary(binary: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...SEARCH].filter(Boolean);
  for (const d of dirs) {
    const p = join(d, binary);
    try {
      accessSync(p, fsc.X_OK);
      return p;
    } catch { /* keep looking */ }
  }
  return undefined;
}

/**
 * For `test(name, { skip: requirePeer('nsd') }, ...)`: a skip message when a binary is missing,
 * else `false`. Under CI=true a missing peer never skips: the test runs and fails on start.
 */
export function requirePeer(...binaries: string[]): string | false {
  const missing = binaries.filter((b) => findBinary(b) === undefined);
  if (missing.length === 0 || isCI) return false;
  return `peer binary missing: ${missing.join(', ')} (scripts/install-peers.sh installs it)`;
}

function mustFind(binary: string): string {
  const p = findBinary(binary);
  if (!p) throw new Error(`peer binary "${binary}" not found${isCI ? ' (CI=true: every peer is required; run scripts/install-peers.sh)' : ''}`);
  return p;
}

function makeDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `portcullis-${name}-`));
}

/** Copies or writes each zone into `dir` as `<name>.zone`; returns [name, file name] pairs. */
function placeZones(dir: string, zones: readonly ZoneSpec[]): Array<{ name: string; file: string }> {
  return zones.map((z) => {
    const name = z.name.replace(/\.$/, '') || '.';
    const file = `${name === '.' ? 'root' : name}.zone`;
    if (z.text !== undefined) writeFileSync(join(dir, file), z.text);
    else if (z.file) copyFileSync(z.file, join(dir, file));
    else throw new Error(`zone ${z.name}: neither file nor text`);
    return { name, file };
  });
}

export interface StartOptions {
  /** Loopback address to listen on (default 127.0.0.1). */
  address?: string;
  /** How long to wait for the first answer, ms (default 20000). */
  readyTimeoutMs?: number;
  /** A name to query while waiting (default the first zone's apex, SOA). */
  probe?: string;
}

interface LaunchSpec {
  name: string;
  dir: string;
  command: string;
  args: string[];
  address: string;
  port: number;
  probe: string;
  readyTimeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /** When set, also wait until stderr/stdout contains it. */
  readyText?: string;
}

const MAX_OUTPUT = 64 * 1024;

async function launch(spec: LaunchSpec): Promise<RunningServer> {
  const child: ChildProcess = spawn(spec.command, spec.args, {
    cwd: spec.dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...spec.env },
  });
  let out = '';
  const collect = (d: Buffer): void => {
    out += d.toString();
    if (out.length > MAX_OUTPUT) out = out.slice(out.length - MAX_OUTPUT);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let exited: { code: number | null; signal: string | null } | undefined;
  const exitPromise = new Promise<void>((res) => {
    child.on('exit', (code, signal) => { exited = { code, signal }; res(); });
    child.on('error', (err) => { collect(Buffer.from(`spawn error: ${err.message}\n`)); exited ??= { code: -1, signal: null }; res(); });
  });
  const server: RunningServer = {
    name: spec.name, address: spec.address, port: spec.port, dir: spec.dir,
    output: () => out,
    stop: async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exitPromise;
        clearTimeout(killer);
      }
      if (!process.env.PORTCULLIS_KEEP_TMP) rmSync(spec.dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + spec.readyTimeoutMs;
  let lastError = '';
  // Poll with a real query: a daemon counts as up only when it answers (any rcode).
  while (Date.now() < deadline) {
    if (exited) break;
    if (!spec.readyText || out.includes(spec.readyText)) {
      try {
        await query(spec, spec.probe, 'SOA', { timeoutMs: 300, attempts: 1 });
        return server;
      } catch (e) {
        lastError = (e as Error).message;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await server.stop();
  const why = exited ? `exited (code ${exited.code}, signal ${exited.signal})` : `did not answer within ${spec.readyTimeoutMs} ms (${lastError})`;
  throw new Error(`${spec.name} on ${spec.address}:${spec.port} ${why}\n--- output ---\n${out.slice(-4000)}`);
}

function common(zones: readonly ZoneSpec[], opts: StartOptions): { address: string; probe: string; readyTimeoutMs: number } {
  return {
    address: opts.address ?? '127.0.0.1',
    probe: opts.probe ?? zones[0]?.name ?? '.',
    readyTimeoutMs: opts.readyTimeoutMs ?? 20000,
  };
}

export interface NsdOptions extends StartOptions {
  /** NSD's `minimal-responses` (default true, which matches Knot and Portcullis). */
  minimalResponses?: boolean;
}

/** NSD 4 in the foreground (`nsd -d`), no database, no control socket, running as the caller. */
export async function startNsd(zones: readonly ZoneSpec[], port: number, opts: NsdOptions = {}): Promise<RunningServer> {
  const bin = mustFind('nsd');
  const c = common(zones, opts);
  const dir = makeDir('nsd');
  const placed = placeZones(dir, zones);
  const conf = [
    'server:',
    `  ip-address: ${c.address}@${port}`,
    '  do-ip6: no',
    '  username: ""',
    `  zonesdir: "${dir}"`,
    '  database: ""',
    `  pidfile: "${dir}/nsd.pid"`,
    `  xfrdfile: "${dir}/xfrd.state"`,
    `  zonelistfile: "${dir}/zone.list"`,
    `  xfrdir: "${dir}"`,
    '  server-count: 1',
    '  verbosity: 1',
    '  hide-version: yes',
    '  refuse-any: no',
    `  minimal-responses: ${opts.minimalResponses ?? true ? 'yes' : 'no'}`,
    'remote-control:',
    '  control-enable: no',
    ...placed.flatMap((z) => ['zone:', `  name: "${z.name}"`, `  zonefile: "${z.file}"`]),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'nsd.conf'), conf);
  return launch({ name: 'nsd', dir, command: bin, args: ['-d', '-c', join(dir, 'nsd.conf')], port, ...c });
}

/** Knot DNS (`knotd`, foreground by default), zone files loaded whole, no journal, no sync back. */
export async function startKnot(zones: readonly ZoneSpec[], port: number, opts: StartOptions = {}): Promise<RunningServer> {
  const bin = mustFind('knotd');
  const c = common(zones, opts);
  const dir = makeDir('knot');
  const placed = placeZones(dir, zones);
  const conf = [
    'server:',
    `  rundir: "${dir}"`,
    `  listen: ${c.address}@${port}`,
    '  udp-workers: 1',
    '  tcp-workers: 1',
    '  background-workers: 1',
    'log:',
    '  - target: stderr',
    '    any: warning',
    'database:',
    `  storage: "${dir}"`,
    'control:',
    `  listen: "${dir}/knot.sock"`,
    'template:',
    '  - id: default',
    `    storage: "${dir}"`,
    '    zonefile-sync: -1',
    '    zonefile-load: whole',
    '    journal-content: none',
    'zone:',
    ...placed.flatMap((z) => [`  - domain: "${z.name}"`, `    file: "${z.file}"`]),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'knot.conf'), conf);
  return launch({ name: 'knot', dir, command: bin, args: ['-c', join(dir, 'knot.conf')], port, ...c });
}

export interface BindOptions extends StartOptions {
  /** `minimal-responses` value (default "yes"). */
  minimalResponses?: 'yes' | 'no' | 'no-auth' | 'no-auth-recursive';
  /** Extra lines for the options block. */
  extraOptions?: string[];
}

/**
 * BIND 9 `named -g` (foreground, logs to stderr), authoritative only. named listens only on
 * addresses configured on an interface, so use 127.0.0.1 unless more loopback addresses exist.
 */
export async function startBind(zones: readonly ZoneSpec[], port: number, opts: BindOptions = {}): Promise<RunningServer> {
  const bin = mustFind('named');
  const c = common(zones, opts);
  const dir = makeDir('bind');
  const placed = placeZones(dir, zones);
  const conf = [
    'options {',
    `  directory "${dir}";`,
    `  pid-file "${dir}/named.pid";`,
    `  listen-on port ${port} { ${c.address}; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  notify no;',
    '  dnssec-validation no;',
    '  session-keyfile none;',
    `  minimal-responses ${opts.minimalResponses ?? 'yes'};`,
    ...(opts.extraOptions ?? []).map((l) => `  ${l}`),
    '};',
    // No rndc channel: it would bind port 953 and read the system's rndc.key.
    'controls { };',
    ...placed.map((z) => `zone "${z.name}" { type primary; file "${z.file}"; };`),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'named.conf'), conf);
  return launch({ name: 'bind', dir, command: bin, args: ['-g', '-n', '1', '-c', join(dir, 'named.conf')], port, ...c });
}

export interface UnboundOptions extends StartOptions {
  /** Zones served from files as `auth-zone` (authoritative answers, no recursion for them). */
  zones?: readonly ZoneSpec[];
  /** Extra lines for the `server:` clause (e.g. `do-not-query-localhost: no`). */
  serverLines?: string[];
  /** Extra top-level clauses (e.g. `forward-zone:` blocks). */
  extra?: string[];
}

/** Unbound in the foreground (`unbound -d`), no chroot, no user switch, no control socket. */
export async function startUnbound(port: number, opts: UnboundOptions = {}): Promise<RunningServer> {
  const bin = mustFind('unbound');
  const zones = opts.zones ?? [];
  const c = common(zones, opts);
  const dir = makeDir('unbound');
  const placed = placeZones(dir, zones);
  const conf = [
    'server:',
    `  interface: ${c.address}@${port}`,
    `  port: ${port}`,
    '  do-ip6: no',
    '  username: ""',
    '  chroot: ""',
    `  directory: "${dir}"`,
    `  pidfile: "${dir}/unbound.pid"`,
    '  do-daemonize: no',
    '  use-syslog: no',
    '  logfile: ""',
    '  num-threads: 1',
    '  verbosity: 1',
    '  access-control: 127.0.0.0/8 allow',
    '  module-config: "iterator"',
    // Unbound answers the RFC 6761 names (test., invalid., ...) itself unless told not to.
    '  local-zone: "test." nodefault',
    '  local-zone: "invalid." nodefault',
    ...(opts.serverLines ?? []).map((l) => `  ${l}`),
    'remote-control:',
    '  control-enable: no',
    ...placed.flatMap((z) => ['auth-zone:', `  name: "${z.name}"`, `  zonefile: "${z.file}"`, '  for-downstream: yes', '  for-upstream: yes']),
    ...(opts.extra ?? []),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'unbound.conf'), conf);
  return launch({ name: 'unbound', dir, command: bin, args: ['-d', '-c', join(dir, 'unbound.conf')], port, ...c });
}

export interface PdnsOptions extends StartOptions {
  /** Serve the zones of an existing BIND-style named.conf instead of `zones`. */
  namedConf?: string;
  /** Extra `key=value` lines for pdns.conf. */
  settings?: string[];
}

/** PowerDNS Authoritative with the bind backend, foreground, no guardian, running as the caller. */
export async function startPdns(zones: readonly ZoneSpec[], port: number, opts: PdnsOptions = {}): Promise<RunningServer> {
  const bin = mustFind('pdns_server');
  const c = common(zones, opts);
  const dir = makeDir('pdns');
  let namedConf = opts.namedConf;
  if (!namedConf) {
    const placed = placeZones(dir, zones);
    namedConf = join(dir, 'named.conf');
    writeFileSync(namedConf, [
      `options { directory "${dir}"; };`,
      ...placed.map((z) => `zone "${z.name}" { type master; file "${z.file}"; };`),
      '',
    ].join('\n'));
  }
  const conf = [
    'launch=bind',
    `bind-config=${namedConf}`,
    `local-address=${c.address}`,
    `local-port=${port}`,
    `socket-dir=${dir}`,
    'guardian=no',
    'daemon=no',
    'disable-syslog=yes',
    'log-timestamp=no',
    'loglevel=3',
    'distributor-threads=1',
    'receiver-threads=1',
    'webserver=no',
    'primary=no',
    'secondary=no',
    ...(opts.settings ?? []),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'pdns.conf'), conf);
  // The bind backend resolves relative zone paths against named.conf's `directory`, which is
  // relative to the working directory: run from the folder that holds named.conf.
  return launch({
    name: 'pdns', dir, command: bin, args: [`--config-dir=${dir}`], port, ...c,
  });
}

/** Folder of the compiled tree this file belongs to (`dist` or a `.build/<name>` outDir). */
function outDir(): string {
  // <outDir>/test/interop/harness/peers.js
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/** Path of the compiled CLI: $PORTCULLIS_BIN, else `<outDir>/src/cli/main.js` of this build. */
export function portcullisBinary(): string | undefined {
  const p = process.env.PORTCULLIS_BIN ?? join(outDir(), 'src', 'cli', 'main.js');
  return existsSync(p) ? p : undefined;
}

/** Like `requirePeer`, for Portcullis's own compiled CLI. */
export function requirePortcullis(): string | false {
  if (portcullisBinary() || isCI) return false;
  return 'Portcullis CLI not built yet (no src/cli/main.js in this build)';
}

export interface PortcullisConfig {
  readonly address: string;
  readonly port: number;
  readonly zones: readonly ZoneSpec[];
  /** Extra top-level YAML lines (already indented as YAML). */
  readonly extraYaml?: string[];
  readonly readyTimeoutMs?: number;
}

/** `portcullis serve --config FILE` with a generated YAML config; waits for "ready" and an answer. */
export async function startPortcullis(config: PortcullisConfig): Promise<RunningServer> {
  const bin = portcullisBinary();
  if (!bin) throw new Error('Portcullis CLI not found: build first (npm run build), or set PORTCULLIS_BIN');
  const dir = makeDir('portcullis');
  const placed = placeZones(dir, config.zones);
  const yaml = [
    'listen:',
    `  - "${config.address}:${config.port}"`,
    'zones:',
    ...placed.flatMap((z) => [`  - name: "${z.name}"`, `    file: "${z.file}"`]),
    ...(config.extraYaml ?? []),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'portcullis.yaml'), yaml);
  return launch({
    name: 'portcullis', dir, command: process.execPath, args: [bin, 'serve', '--config', join(dir, 'portcullis.yaml')],
    address: config.address, port: config.port, probe: config.zones[0]?.name ?? '.',
    readyTimeoutMs: config.readyTimeoutMs ?? 20000, readyText: '"msg":"ready"',
  });
}
