import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { Name, typeFromString, typeToString } from '../wire/index.js';
import { DASHBOARD_CSS, DASHBOARD_HTML, DASHBOARD_JS } from './dashboard.js';
import { ControlError, type ControlProvider } from './provider.js';

export interface ControlOptions {
  /** "127.0.0.1:8053", "[::1]:8053", "localhost:8053"; port 0 picks a free one. */
  listen: string;
  /** Bearer token. Required (directly or via tokenFile) when `listen` is not loopback. */
  token?: string;
  /** File holding the token (trailing whitespace ignored); read once at start. */
  tokenFile?: string;
  provider: ControlProvider;
  /**
   * Served at /metrics (Prometheus text format); a function is called at the first scrape (the
   * monitor builds its registry, and loads prom-client, only then).
   */
  metrics?: Registry | (() => Registry);
}

export interface ControlServer {
  /** Base URL, e.g. http://127.0.0.1:8053 */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

/** Splits "host:port" / "[v6]:port". Throws on anything else. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]]+)):([0-9]{1,5})$/.exec(listen.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ControlError(400, `control.listen: expected host:port or [v6]:port, got "${listen}"`);
  return { host: (m[1] ?? m[2])!, port };
}

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Starts the control API, /metrics and the dashboard. Loopback by default; on any other address
 * a bearer token is required. Rejects with a clear message when the port cannot be bound.
 */
export async function startControl(opts: ControlOptions): Promise<ControlServer> {
  const { host, port } = parseListen(opts.listen);
  let token = opts.token;
  if (token === undefined && opts.tokenFile !== undefined) {
    token = readFileSync(opts.tokenFile, 'utf8').trim();
    if (token.length === 0) throw new ControlError(400, `control: token file ${opts.tokenFile} is empty`);
  }
  if (!isLoopback(host) && !token) {
    throw new ControlError(400, `control: listening on ${host} (not loopback) needs a token (control.token-file)`);
  }
  const tokenHash = token ? createHash('sha256').update(token).digest() : undefined;
  const loopbackOnly = isLoopback(host);

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof ControlError ? e.status : 500;
      sendJson(res, status, { error: statusText(status), message: e instanceof Error ? e.message : String(e) });
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://control.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';

    // DNS-rebinding guard: a loopback-only API answers only to loopback host names.
    if (loopbackOnly) {
      const hostHeader = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
      if (!isLoopback(hostHeader)) throw new ControlError(403, `Host "${req.headers.host ?? ''}" is not a loopback name`);
    }

    // Static dashboard: no secrets in it; the token (when needed) comes from the page's #token=.
    if (method === 'GET' && (path === '/' || path === '/index.html')) return sendText(res, 200, DASHBOARD_HTML, 'text/html; charset=utf-8');
    if (method === 'GET' && path === '/dashboard.js') return sendText(res, 200, DASHBOARD_JS, 'text/javascript; charset=utf-8');
    if (method === 'GET' && path === '/dashboard.css') return sendText(res, 200, DASHBOARD_CSS, 'text/css; charset=utf-8');

    if (method === 'GET' && path === '/favicon.ico') {
      res.writeHead(204, SECURITY_HEADERS);
      res.end();
      return;
    }

    if (path !== '/metrics' && !path.startsWith('/api/')) throw new ControlError(404, `no such path ${path}`);
    if (tokenHash) {
      const auth = req.headers.authorization ?? '';
      const m = /^Bearer\s+(.+)$/i.exec(auth);
      const given = m ? createHash('sha256').update(m[1]!.trim()).digest() : undefined;
      if (!given || !timingSafeEqual(given, tokenHash)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="portcullis"');
        throw new ControlError(401, 'missing or wrong bearer token');
      }
    }
    if (method === 'POST' && !tokenHash) {
      // Without a token, a state-changing request must be one a web page cannot forge without a
      // CORS preflight (which we never grant): JSON content type.
      const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (ct !== 'application/json') throw new ControlError(415, 'POST requests need Content-Type: application/json');
    }

    const p = opts.provider;
    const route = `${method} ${path}`;
    switch (route) {
      case 'GET /metrics': {
        if (!opts.metrics) throw new ControlError(404, 'metrics are not enabled');
        const registry = typeof opts.metrics === 'function' ? opts.metrics() : opts.metrics;
        return sendText(res, 200, await registry.metrics(), registry.contentType);
      }
      case 'GET /api/status': return sendJson(res, 200, await p.status());
      case 'GET /api/stats': return sendJson(res, 200, await p.stats());
      case 'GET /api/zones': return sendJson(res, 200, await p.zones());
      case 'GET /api/alerts': return sendJson(res, 200, await p.alerts());
      case 'POST /api/reload': {
        await readBody(req);
        const r = await p.reload();
        return sendJson(res, r.ok ? 200 : 500, r);
      }
      case 'POST /api/cache/flush': {
        const body = await readBody(req);
        const raw = url.searchParams.get('name') ?? (typeof body.name === 'string' ? body.name : undefined);
        const name = raw === undefined || raw === '' ? undefined : parseName(raw);
        const r = await p.flushCache(name);
        return sendJson(res, 200, { ...r, ...(name ? { name } : {}) });
      }
      case 'GET /api/cache': {
        const rawName = url.searchParams.get('name');
        if (!rawName) throw new ControlError(400, 'query parameter "name" is required');
        const name = parseName(rawName);
        const rawType = url.searchParams.get('type') ?? 'A';
        const t = typeFromString(rawType);
        if (t === undefined) throw new ControlError(400, `unknown record type "${rawType}"`);
        return sendJson(res, 200, await p.cacheLookup(name, typeToString(t)));
      }
    }
    const known = ['/metrics', '/api/status', '/api/stats', '/api/zones', '/api/alerts', '/api/reload', '/api/cache/flush', '/api/cache'];
    if (known.includes(path)) throw new ControlError(405, `${method} is not allowed on ${path}`);
    throw new ControlError(404, `no such path ${path}`);
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      reject(new ControlError(500, `control: cannot listen on ${opts.listen}: ${e.code ?? e.message}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const hostPart = addr.family === 'IPv6' || addr.family === (6 as unknown) ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${hostPart}:${addr.port}`,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function parseName(text: string): string {
  try {
    return Name.parse(text.endsWith('.') ? text : text + '.').toString();
  } catch (e) {
    throw new ControlError(400, `bad name "${text}": ${(e as Error).message}`);
  }
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new ControlError(413, `request body larger than ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ControlError(400, `request body is not JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ControlError(400, 'request body must be a JSON object');
  return v as Record<string, unknown>;
}

const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
};

function sendText(res: ServerResponse, status: number, body: string, type: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  sendText(res, status, JSON.stringify(value), 'application/json; charset=utf-8');
}

function statusText(status: number): string {
  return ({ 400: 'bad-request', 401: 'unauthorized', 403: 'forbidden', 404: 'not-found', 405: 'method-not-allowed', 409: 'conflict', 413: 'too-large', 415: 'unsupported-media-type' } as Record<number, string>)[status] ?? 'internal-error';
}
