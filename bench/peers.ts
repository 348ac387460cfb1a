// Starts the servers the benchmark compares, one at a time, on loopback, each pinned to a CPU
// with `taskset` and limited to one worker. Configs follow test/interop/harness/peers.ts (same
// daemons, same foreground/no-control choices) plus the pinning, the process id the benchmark
// needs for CPU and memory, and the cached resolvers (Unbound, PowerDNS Recursor, Knot
// Resolver, Portcullis) pointed at a loopback authoritative.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants as fsc, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface Running {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Process id of the daemon (taskset execs it, so this is the daemon itself). */
  readonly pid: number;
  readonly dir: string;
  /** Milliseconds from spawn to the first answer to the probe query. */
  readonly startMs: number;
  output(): string;
  stop(): Promise<void>;
}

export interface ServeSpec {
  /** Zone origin, e.g. "bench.test." */
  readonly origin: string;
  /** Absolute path of the zone file (read in place, never copied). */
  readonly file: string;
  readonly address: string;
  readonly port: number;
  /** CPU list for taskset ("0"); undefined: not pinned. */
  readonly cpu?: string;
  /** How long to wait for the first answer (large zones take a while). */
  readonly readyTimeoutMs?: number;
  /**
   * Ready only once the apex SOA comes back NOERROR. Servers answer SERVFAIL for a zone they
   * are still loading, so load times need this; throughput runs start after it anyway.
   */
  readonly requireNoError?: boolean;
}

export interface ResolverSpec {
  readonly address: string;
  readonly port: number;
  readonly cpu?: string;
  /**
   * The zone to forward to the upstream (a loopback authoritative), with RD set, so no resolver
   * follows NS records; outgoing queries are also bound to `address`, so none can leave loopback.
   */
  readonly origin: string;
  readonly upstream: { address: string; port: number };
}

const SEARCH = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** Absolute path of a binary on PATH (or in the sbin dirs), undefined when absent. */
export function findBinary(binary: string): string | undefined {
  for (const d of [...(process.env.PATH ?? '').split(delimiter), ...SEARCH].filter(Boolean)) {
    try {
      accessSync(join(d, binary), fsc.X_OK);
      return join(d, binary);
    } catch { /* keep looking */ }
  }
  return undefined;
}

export class MissingPeer extends Error {
  constructor(readonly binary: string) {
    super(`${binary} not installed (scripts/install-peers.sh installs it)`);
    this.name = 'MissingPeer';
  }
}

function need(binary: string): string {
  const p = findBinary(binary);
  if (!p) throw new MissingPeer(binary);
  return p;
}

/**
 * One DNS query over UDP: resolves to the rcode of the first reply with our ID, rejects after
 * `timeoutMs`. Built by hand so the benchmark's readiness check depends on nothing it measures.
 */
export function probe(address: string, port: number, qname: string, qtype = 6, rd = false, timeoutMs = 300): Promise<number> {
  const labels = qname.replace(/\.$/, '').split('.').filter(Boolean);
  const id = (Math.random() * 0xffff) | 0;
  const parts: number[] = [id >> 8, id & 255, rd ? 1 : 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const l of labels) parts.push(l.length, ...Buffer.from(l, 'ascii'));
  parts.push(0, qtype >> 8, qtype & 255, 0, 1);
  const sock = createSocket('udp4');
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`no answer from ${address}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('message', (m) => {
      if (m.length < 12 || m.readUInt16BE(0) !== id) return;
      clearTimeout(timer);
      sock.close();
      resolve(m[3]! & 15);
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      sock.close();
      reject(e);
    });
    sock.send(Buffer.from(parts), port, address);
  });
}

interface LaunchSpec {
  name: string;
  dir: string;
  command: string;
  args: string[];
  address: string;
  port: number;
  cpu?: string;
  probeName: string;
  rd?: boolean;
  readyTimeoutMs: number;
  requireNoError?: boolean;
}

const MAX_OUTPUT = 64 * 1024;

async function launch(spec: LaunchSpec): Promise<Running> {
  const t0 = performance.now();
  const [cmd, args] = spec.cpu !== undefined ? [need('taskset'), ['-c', spec.cpu, spec.command, ...spec.args]] : [spec.command, spec.args];
  const child: ChildProcess = spawn(cmd, args, { cwd: spec.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const collect = (d: Buffer): void => {
    out += d.toString();
    if (out.length > MAX_OUTPUT) out = out.slice(out.length - MAX_OUTPUT);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let exited: string | undefined;
  const exitPromise = new Promise<void>((res) => {
    child.on('exit', (code, signal) => { exited = `exited (code ${code}, signal ${signal})`; res(); });
    child.on('error', (err) => { exited = `spawn error: ${err.message}`; res(); });
  });
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitPromise;
      clearTimeout(killer);
    }
    rmSync(spec.dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + spec.readyTimeoutMs;
  let last = '';
  while (Date.now() < deadline && !exited) {
    try {
      const rcode = await probe(spec.address, spec.port, spec.probeName, 6, spec.rd ?? false);
      if (spec.requireNoError && rcode !== 0) throw new Error(`rcode ${rcode}`);
      return {
        name: spec.name, address: spec.address, port: spec.port, pid: child.pid!, dir: spec.dir,
        startMs: performance.now() - t0, output: () => out, stop,
      };
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await stop();
  throw new Error(`${spec.name} on ${spec.address}:${spec.port} ${exited ?? `did not answer within ${spec.readyTimeoutMs} ms (${last})`}\n${out.slice(-2000)}`);
}

function dirFor(name: string): string {
  return mkdtempSync(join(tmpdir(), `portcullis-bench-${name}-`));
}

const bare = (origin: string): string => origin.replace(/\.$/, '');

export type AuthName = 'portcullis' | 'nsd' | 'knot' | 'bind' | 'pdns';
export type ResolverName = 'portcullis' | 'unbound' | 'pdns-recursor' | 'knot-resolver';

export interface PortcullisOptions {
  /** `workers:` in the config (default 1). */
  workers?: number;
  /** Path of the compiled CLI (dist/src/cli/main.js). */
  cli: string;
  /** Extra options for node itself (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /**
   * YAML appended to the generated config (default: $PORTCULLIS_BENCH_CONFIG), e.g.
   * `detection: {enabled: false}` to measure what a configured step costs.
   */
  extraConfig?: string;
}

export async function startAuth(which: AuthName, s: ServeSpec, p?: PortcullisOptions): Promise<Running> {
  const dir = dirFor(which);
  const readyTimeoutMs = s.readyTimeoutMs ?? 30_000;
  const base = { name: which, dir, address: s.address, port: s.port, cpu: s.cpu, probeName: s.origin, readyTimeoutMs, requireNoError: s.requireNoError };
  const zone = bare(s.origin);
  switch (which) {
    case 'portcullis': {
      if (!p) throw new Error('portcullis: options with the CLI path are required');
      writeFileSync(join(dir, 'portcullis.yaml'), [
        'listen:', `  - "${s.address}:${s.port}"`, `workers: ${p.workers ?? 1}`,
        'zones:', `  - name: "${zone}"`, `    file: "${s.file}"`, '    allow-transfer: [127.0.0.0/8]',
        p.extraConfig ?? process.env.PORTCULLIS_BENCH_CONFIG ?? '', '',
      ].join('\n'));
      return launch({ ...base, command: process.execPath, args: [...(p.nodeArgs ?? []), p.cli, 'serve', '--config', join(dir, 'portcullis.yaml')] });
    }
    case 'nsd': {
      writeFileSync(join(dir, 'nsd.conf'), [
        'server:', `  ip-address: ${s.address}@${s.port}`, '  do-ip6: no', '  username: ""', `  zonesdir: "${dir}"`,
        '  database: ""', `  pidfile: "${dir}/nsd.pid"`, `  xfrdfile: "${dir}/xfrd.state"`, `  zonelistfile: "${dir}/zone.list"`,
        `  xfrdir: "${dir}"`, '  server-count: 1', '  verbosity: 0', '  hide-version: yes', '  refuse-any: no',
        '  minimal-responses: yes', '  rrl-ratelimit: 0', 'remote-control:', '  control-enable: no',
        'zone:', `  name: "${zone}"`, `  zonefile: "${s.file}"`, '  provide-xfr: 127.0.0.0/8 NOKEY', '',
      ].join('\n'));
      return launch({ ...base, command: need('nsd'), args: ['-d', '-c', join(dir, 'nsd.conf')] });
    }
    case 'knot': {
      writeFileSync(join(dir, 'knot.conf'), [
        'server:', `  rundir: "${dir}"`, `  listen: ${s.address}@${s.port}`, '  udp-workers: 1', '  tcp-workers: 1',
        '  background-workers: 1', 'log:', '  - target: stderr', '    any: warning', 'database:', `  storage: "${dir}"`,
        'control:', `  listen: "${dir}/knot.sock"`, 'acl:', '  - id: xfr', '    address: 127.0.0.0/8', '    action: transfer', 'template:', '  - id: default', `    storage: "${dir}"`,
        '    zonefile-sync: -1', '    zonefile-load: whole', '    journal-content: none',
        'zone:', `  - domain: "${zone}"`, `    file: "${s.file}"`, '    acl: xfr', '',
      ].join('\n'));
      return launch({ ...base, command: need('knotd'), args: ['-c', join(dir, 'knot.conf')] });
    }
    case 'bind': {
      // named fails to load a zone whose file lies outside its directory here ("journal open
      // failed"), so it gets a copy. Its integrity checks (MX/SRV targets without addresses)
      // would log 100,000 warnings for the 1M zone: off, as NSD and Knot do not check either.
      copyFileSync(s.file, join(dir, 'zone.db'));
      writeFileSync(join(dir, 'named.conf'), [
        'options {', `  directory "${dir}";`, `  pid-file "${dir}/named.pid";`, `  listen-on port ${s.port} { ${s.address}; };`,
        '  listen-on-v6 { none; };', '  recursion no;', '  notify no;', '  dnssec-validation no;', '  session-keyfile none;',
        '  minimal-responses yes;', '};', 'controls { };',
        `zone "${zone}" { type primary; file "zone.db"; check-integrity no; check-names ignore; allow-transfer { 127.0.0.0/8; }; };`, '',
      ].join('\n'));
      return launch({ ...base, command: need('named'), args: ['-g', '-n', '1', '-U', '1', '-c', join(dir, 'named.conf')] });
    }
    case 'pdns': {
      writeFileSync(join(dir, 'named.conf'), [`options { directory "${dir}"; };`, `zone "${zone}" { type master; file "${s.file}"; };`, ''].join('\n'));
      writeFileSync(join(dir, 'pdns.conf'), [
        'launch=bind', `bind-config=${join(dir, 'named.conf')}`, `local-address=${s.address}`, `local-port=${s.port}`,
        `socket-dir=${dir}`, 'guardian=no', 'daemon=no', 'disable-syslog=yes', 'loglevel=3', 'distributor-threads=1',
        'receiver-threads=1', 'webserver=no', 'primary=no', 'secondary=no', '',
      ].join('\n'));
      return launch({ ...base, command: need('pdns_server'), args: [`--config-dir=${dir}`] });
    }
  }
}

export async function startResolver(which: ResolverName, s: ResolverSpec, p?: PortcullisOptions): Promise<Running> {
  const dir = dirFor(which);
  const up = s.upstream;
  const base = { name: which, dir, address: s.address, port: s.port, cpu: s.cpu, probeName: s.origin, rd: true, readyTimeoutMs: 30_000 };
  const zone = bare(s.origin);
  switch (which) {
    case 'portcullis': {
      if (!p) throw new Error('portcullis: options with the CLI path are required');
      writeFileSync(join(dir, 'portcullis.yaml'), [
        'listen:', `  - "${s.address}:${s.port}"`, `workers: ${p.workers ?? 1}`,
        'resolver:', '  allow: [127.0.0.0/8]', `  query-port: ${up.port}`, '  dnssec: off',
        `  forward: [{ zone: "${zone}", to: ["${up.address}:${up.port}"] }]`, '',
      ].join('\n'));
      return launch({ ...base, command: process.execPath, args: [...(p.nodeArgs ?? []), p.cli, 'serve', '--config', join(dir, 'portcullis.yaml')] });
    }
    case 'unbound': {
      writeFileSync(join(dir, 'unbound.conf'), [
        'server:', `  interface: ${s.address}@${s.port}`, `  port: ${s.port}`, '  do-ip6: no', '  username: ""', '  chroot: ""',
        `  directory: "${dir}"`, `  pidfile: "${dir}/unbound.pid"`, '  do-daemonize: no', '  use-syslog: no', '  logfile: ""',
        '  num-threads: 1', '  so-reuseport: no', '  verbosity: 0', '  access-control: 127.0.0.0/8 allow',
        '  module-config: "iterator"', '  do-not-query-localhost: no', '  local-zone: "test." nodefault',
        '  msg-cache-size: 64m', '  rrset-cache-size: 128m',
        // Outgoing queries leave from our loopback address: nothing can reach beyond loopback.
        `  outgoing-interface: ${s.address}`,
        'remote-control:', '  control-enable: no',
        'forward-zone:', `  name: "${zone}"`, `  forward-addr: ${up.address}@${up.port}`, '',
      ].join('\n'));
      return launch({ ...base, command: need('unbound'), args: ['-d', '-c', join(dir, 'unbound.conf')] });
    }
    case 'pdns-recursor': {
      writeFileSync(join(dir, 'recursor.conf'), [
        `local-address=${s.address}`, `local-port=${s.port}`, `forward-zones-recurse=${zone}=${up.address}:${up.port}`,
        `query-local-address=${s.address}`,
        'threads=1', 'pdns-distributes-queries=no', 'daemon=no', `socket-dir=${dir}`, 'allow-from=127.0.0.0/8',
        'dont-query=', 'dnssec=off', 'quiet=yes', 'write-pid=no', 'disable-syslog=yes', '',
      ].join('\n'));
      return launch({ ...base, command: need('pdns_recursor'), args: [`--config-dir=${dir}`] });
    }
    case 'knot-resolver': {
      writeFileSync(join(dir, 'kresd.conf'), [
        `net.listen('${s.address}', ${s.port}, { kind = 'dns' })`,
        "trust_anchors.remove('.')",
        `net.outgoing_v4('${s.address}')`,
        'cache.size = 128 * MB',
        `policy.add(policy.suffix(policy.STUB({'${up.address}@${up.port}'}), {todname('${zone}.')}))`, '',
      ].join('\n'));
      return launch({ ...base, command: need('kresd'), args: ['-n', '-q', '-c', join(dir, 'kresd.conf'), dir] });
    }
  }
}
