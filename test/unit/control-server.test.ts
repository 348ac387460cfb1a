// The control API with a fake provider (and a real Monitor behind stats, alerts and /metrics).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { pino } from 'pino';
import { startControl, ControlError, type ControlProvider, parseListen, isLoopback } from '../../src/control/index.js';
import { ctlRequest, CtlError, registerCtlCommand } from '../../src/control/ctl.js';
import { Monitor } from '../../src/monitor/index.js';

const HOST = '127.0.0.41';

function fake(monitor: Monitor) {
  const calls: string[] = [];
  const provider: ControlProvider = {
    status: () => ({ version: '0.1.0', uptimeSeconds: 5 }),
    stats: () => ({ ...monitor.stats() }),
    zones: () => [{ name: 'example.test.', serial: 2024010101, kind: 'primary' }],
    alerts: () => monitor.alerts(),
    reload: () => { calls.push('reload'); return { ok: true, message: 'reloaded' }; },
    flushCache: (name?: string) => { calls.push(`flush ${name ?? '*'}`); return { flushed: name ? 1 : 42 }; },
    cacheLookup: (name: string, type: string) => {
      calls.push(`cache ${name} ${type}`);
      if (name === 'conflict.test.') throw new ControlError(409, 'busy');
      if (name === 'boom.test.') throw new Error('provider exploded');
      return [{ name, type, ttl: 300, records: [`${name} 300 IN ${type} 10 mail.${name}`] }];
    },
  };
  return { provider, calls };
}

interface Res { status: number; headers: Record<string, string | string[] | undefined>; body: string; json: any }
function http(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        let json: unknown;
        try { json = JSON.parse(body); } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const quiet = () => pino({ level: 'silent' });

test('GET endpoints return the provider JSON with security headers', async () => {
  const monitor = new Monitor({ logger: quiet() });
  const { provider } = fake(monitor);
  const srv = await startControl({ listen: `${HOST}:15901`, provider, metrics: monitor.metrics });
  try {
    const st = await http(srv.url + '/api/status');
    assert.equal(st.status, 200);
    assert.match(String(st.headers['content-type']), /application\/json/);
    assert.equal(st.headers['x-content-type-options'], 'nosniff');
    assert.equal(st.json.version, '0.1.0');
    const z = await http(srv.url + '/api/zones');
    assert.deepEqual(z.json, [{ name: 'example.test.', serial: 2024010101, kind: 'primary' }]);
    monitor.observe({ time: Date.now(), client: '127.0.0.1', transport: 'udp', qname: 'www.example.test.', qtype: 1, rcode: 0, bytesIn: 40, bytesOut: 80, latencyMs: 1, zone: 'example.test.', flags: { tc: false, rateLimited: false, dropped: false, cached: false } });
    const s = await http(srv.url + '/api/stats');
    assert.equal(s.json.queries, 1);
    assert.deepEqual(s.json.rcodes, { NOERROR: 1 });
    const a = await http(srv.url + '/api/alerts');
    assert.deepEqual(a.json, []);
    const m = await http(srv.url + '/metrics');
    assert.equal(m.status, 200);
    assert.match(m.body, /portcullis_queries_total\{transport="udp",type="A",view="",zone="example.test."\} 1/);
    assert.match(m.body, /portcullis_responses_total\{transport="udp",rcode="NOERROR"/);
    const dash = await http(srv.url + '/');
    assert.equal(dash.status, 200);
    assert.match(dash.body, /<script src="\/dashboard.js">/);
    const js = await http(srv.url + '/dashboard.js');
    assert.match(String(js.headers['content-type']), /javascript/);
    assert.match(js.body, /api\/alerts/);
  } finally {
    await srv.close();
  }
});

test('POST reload and cache flush; cache lookup; errors are JSON with a message', async () => {
  const monitor = new Monitor({ logger: quiet() });
  const { provider, calls } = fake(monitor);
  const srv = await startControl({ listen: `${HOST}:15902`, provider });
  const json = { 'Content-Type': 'application/json' };
  try {
    const noCt = await http(srv.url + '/api/reload', { method: 'POST' });
    assert.equal(noCt.status, 415, 'a form post cannot trigger a reload');
    assert.equal(typeof noCt.json.message, 'string');
    assert.deepEqual(calls, []);
    const r = await http(srv.url + '/api/reload', { method: 'POST', headers: json, body: '{}' });
    assert.equal(r.status, 200);
    assert.equal(r.json.ok, true);
    const all = await http(srv.url + '/api/cache/flush', { method: 'POST', headers: json });
    assert.deepEqual(all.json, { flushed: 42 });
    const one = await http(srv.url + '/api/cache/flush', { method: 'POST', headers: json, body: '{"name":"Example.Test"}' });
    assert.deepEqual(one.json, { flushed: 1, name: 'Example.Test.' });
    const q = await http(srv.url + '/api/cache?name=example.test&type=mx');
    assert.equal(q.status, 200);
    assert.equal(q.json[0].type, 'MX');
    assert.deepEqual(calls, ['reload', 'flush *', 'flush Example.Test.', 'cache example.test. MX']);

    const cases: [string, { method?: string; headers?: Record<string, string>; body?: string }, number][] = [
      ['/api/cache', {}, 400],
      ['/api/cache?name=a..b', {}, 400],
      ['/api/cache?name=example.test&type=NOPE', {}, 400],
      ['/api/cache?name=conflict.test', {}, 409],
      ['/api/cache?name=boom.test', {}, 500],
      ['/api/nothing', {}, 404],
      ['/etc/passwd', {}, 404],
      ['/api/status', { method: 'DELETE' }, 405],
      ['/api/cache/flush', { method: 'POST', headers: json, body: '{not json' }, 400],
      ['/api/cache/flush', { method: 'POST', headers: json, body: '[1]' }, 400],
      ['/api/cache/flush', { method: 'POST', headers: json, body: 'x'.repeat(70_000) }, 413],
      ['/metrics', {}, 404],
    ];
    for (const [path, o, status] of cases) {
      const res = await http(srv.url + path, o);
      assert.equal(res.status, status, `${o.method ?? 'GET'} ${path}`);
      assert.equal(typeof res.json?.message, 'string', `${path}: JSON error with a message`);
    }
    const boom = await http(srv.url + '/api/cache?name=boom.test');
    assert.equal(boom.json.message, 'provider exploded');
    const rebinding = await http(srv.url + '/api/status', { headers: { Host: 'attacker.example:15902' } });
    assert.equal(rebinding.status, 403, 'non-loopback Host header refused (DNS rebinding)');
  } finally {
    await srv.close();
  }
});

test('bearer token: required when given, and mandatory off loopback', async () => {
  const monitor = new Monitor({ logger: quiet() });
  const { provider } = fake(monitor);
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-ctl-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 's3cret-token\n');
  await assert.rejects(startControl({ listen: '0.0.0.0:15903', provider }), /needs a token/);
  await assert.rejects(startControl({ listen: 'nonsense', provider }), /host:port/);
  const srv = await startControl({ listen: `${HOST}:15904`, tokenFile, provider });
  try {
    assert.equal((await http(srv.url + '/api/status')).status, 401);
    assert.equal((await http(srv.url + '/api/status', { headers: { Authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await http(srv.url + '/api/status', { headers: { Authorization: 'Bearer s3cret-token' } })).status, 200);
    assert.equal((await http(srv.url + '/')).status, 200, 'the page itself holds no data');
    // ctl with and without the token file
    await assert.rejects(ctlRequest({ url: srv.url }, 'GET', 'api/status'), (e: CtlError) => e.code === 1 && /401/.test(e.message));
    const st = (await ctlRequest({ url: srv.url, tokenFile }, 'GET', 'api/status')) as { version: string };
    assert.equal(st.version, '0.1.0');
  } finally {
    await srv.close();
  }
  await assert.rejects(startControl({ listen: `${HOST}:15905`, tokenFile: join(dir, 'missing'), provider }), /ENOENT/);
});

test('port in use gives a clear error', async () => {
  const { provider } = fake(new Monitor({ logger: quiet() }));
  const a = await startControl({ listen: `${HOST}:15906`, provider });
  try {
    await assert.rejects(startControl({ listen: `${HOST}:15906`, provider }), /cannot listen on 127\.0\.0\.41:15906: EADDRINUSE/);
  } finally {
    await a.close();
  }
});

test('listen parsing and loopback detection', () => {
  assert.deepEqual(parseListen('127.0.0.1:8053'), { host: '127.0.0.1', port: 8053 });
  assert.deepEqual(parseListen('[::1]:8053'), { host: '::1', port: 8053 });
  assert.deepEqual(parseListen('localhost:1'), { host: 'localhost', port: 1 });
  for (const bad of ['127.0.0.1', '::1:80', '1.2.3.4:70000', ':80']) assert.throws(() => parseListen(bad), /host:port/, bad);
  assert.ok(isLoopback('127.9.9.9') && isLoopback('::1') && isLoopback('LOCALHOST'));
  assert.ok(!isLoopback('0.0.0.0') && !isLoopback('10.0.0.1') && !isLoopback('::'));
});

test('portcullis ctl commands print the API answers and set exit codes', async () => {
  const monitor = new Monitor({ logger: quiet() });
  const { provider, calls } = fake(monitor);
  const srv = await startControl({ listen: `${HOST}:15907`, provider });
  const out: string[] = [];
  const err: string[] = [];
  const run = async (...args: string[]) => {
    const program = new Command().exitOverride();
    registerCtlCommand(program, { out: (s) => out.push(s), err: (s) => err.push(s) });
    out.length = 0;
    err.length = 0;
    process.exitCode = undefined;
    await program.parseAsync(['node', 'portcullis', 'ctl', ...args]);
    const code = process.exitCode;
    process.exitCode = undefined;
    return code;
  };
  try {
    assert.equal(await run('--url', srv.url, 'zones'), undefined);
    assert.equal(JSON.parse(out.join(''))[0].serial, 2024010101);
    await run('--url', srv.url, 'flush', 'www.example.test');
    await run('--url', srv.url, 'flush');
    await run('--url', srv.url, 'cache', 'example.test', 'MX');
    await run('--url', srv.url, 'reload');
    assert.deepEqual(calls, ['flush www.example.test.', 'flush *', 'cache example.test. MX', 'reload']);
    assert.equal(await run('--url', srv.url, 'cache', 'example.test', 'BOGUS'), 1);
    assert.match(err.join(''), /unknown record type/);
  } finally {
    await srv.close();
  }
  assert.equal(await run('--url', 'http://127.0.0.41:15999', 'status'), 2, 'unreachable server: exit 2');
  assert.match(err.join(''), /cannot reach/);
});
