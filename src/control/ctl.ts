import { readFileSync } from 'node:fs';
import type { Command } from 'commander';

export const DEFAULT_CONTROL_URL = 'http://127.0.0.1:8053';

/** Thrown by the ctl actions; `code` is the process exit code (1 invalid input, 2 runtime failure). */
export class CtlError extends Error {
  constructor(
    message: string,
    readonly code: 1 | 2,
  ) {
    super(message);
  }
}

export interface CtlOptions {
  url?: string;
  tokenFile?: string;
}

/** Where ctl writes (tests pass their own). */
export interface CtlIo {
  out(text: string): void;
  err(text: string): void;
}
const defaultIo: CtlIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** One request to the control API; returns the parsed JSON or throws CtlError. */
export async function ctlRequest(opts: CtlOptions, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const base = opts.url ?? process.env.PORTCULLIS_CONTROL_URL ?? DEFAULT_CONTROL_URL;
  let url: URL;
  try {
    url = new URL(path, base.endsWith('/') ? base : base + '/');
  } catch {
    throw new CtlError(`bad --url "${base}"`, 1);
  }
  const headers: Record<string, string> = {};
  if (opts.tokenFile) {
    try {
      headers.Authorization = 'Bearer ' + readFileSync(opts.tokenFile, 'utf8').trim();
    } catch (e) {
      throw new CtlError(`cannot read token file: ${(e as Error).message}`, 1);
    }
  }
  if (method === 'POST') headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined, signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    throw new CtlError(`cannot reach ${url.origin}: ${cause ?? (e as Error).message}`, 2);
  }
  const text = await res.text();
  let value: unknown;
  try {
    value = text ? JSON.parse(text) : null;
  } catch {
    throw new CtlError(`${url.pathname}: HTTP ${res.status}, not JSON`, 2);
  }
  if (!res.ok) {
    const msg = (value as { message?: string } | null)?.message ?? res.statusText;
    throw new CtlError(`${url.pathname}: HTTP ${res.status}: ${msg}`, res.status >= 400 && res.status < 500 ? 1 : 2);
  }
  return value;
}

/**
 * `portcullis ctl [--url URL] [--token-file FILE] COMMAND`: status, stats, zones, alerts, reload,
 * flush [NAME], cache NAME [TYPE]. Prints JSON; exit 1 for bad input or a 4xx, 2 when the server
 * cannot be reached or fails.
 */
export function registerCtlCommand(program: Command, io: CtlIo = defaultIo): Command {
  const ctl = program
    .command('ctl')
    .description("talk to a running server's control API")
    .option('--url <url>', `control API base URL (default $PORTCULLIS_CONTROL_URL or ${DEFAULT_CONTROL_URL})`)
    .option('--token-file <file>', 'file holding the bearer token');

  const run = (method: 'GET' | 'POST', path: (...a: string[]) => string, body?: (...a: string[]) => unknown) =>
    async (...args: unknown[]) => {
      const strings = args.filter((a): a is string => typeof a === 'string');
      const o = ctl.opts<{ url?: string; tokenFile?: string }>();
      try {
        const v = await ctlRequest(o, method, path(...strings), body?.(...strings));
        io.out(JSON.stringify(v, null, 2) + '\n');
      } catch (e) {
        if (e instanceof CtlError) {
          io.err(`portcullis ctl: ${e.message}\n`);
          process.exitCode = e.code;
          return;
        }
        throw e;
      }
    };

  ctl.command('status').description('server status').action(run('GET', () => 'api/status'));
  ctl.command('stats').description('live statistics').action(run('GET', () => 'api/stats'));
  ctl.command('zones').description('served zones and serials').action(run('GET', () => 'api/zones'));
  ctl.command('alerts').description('detector alerts').action(run('GET', () => 'api/alerts'));
  ctl.command('reload').description('reload config and zones').action(run('POST', () => 'api/reload'));
  ctl
    .command('flush [name]')
    .description('flush the cache, or one name')
    .action(run('POST', () => 'api/cache/flush', (name?: string) => (name ? { name } : {})));
  ctl
    .command('cache <name> [type]')
    .description('show cached records for a name and type (default A)')
    .action(run('GET', (name: string, type?: string) => `api/cache?name=${encodeURIComponent(name)}&type=${encodeURIComponent(type ?? 'A')}`));
  return ctl;
}
