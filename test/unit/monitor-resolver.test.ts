// The resolver as the monitor sees it, over real loopback sockets: answers from the cache count
// as cache hits (portcullis_cache_hit_ratio, /api/stats), the resolver's own counters are
// exported as portcullis_resolver_* metrics (validation outcomes included), and the resolver's
// upstream exchanges reach dnstap as the bytes on the wire with our socket's port and the zone
// asked. A Portcullis serving the root zone on 127.0.0.41 is the loopback Internet; the servers
// under test listen on 127.0.0.40 (ports 15900-15919).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeMessage, Name, Rcode, RRType } from '../../src/wire/index.js';
import { FrameDecoder } from '../../src/monitor/dnstap-fstrm.js';
import { decodeDnstap } from '../../src/monitor/dnstap-decode.js';
import { MessageType, SocketProtocol } from '../../src/monitor/dnstap-protobuf.js';
import { Registry } from 'prom-client';
import { registerResolverMetrics, type ResolverStatsSource } from '../../src/monitor/resolver-metrics.js';
import { NetUpstream, type UpstreamExchange } from '../../src/resolver/index.js';
import { makeMessage } from '../../src/wire/index.js';
import { query, runServer, tempDir, TcpClient, udpFrom } from './wiring-harness.js';

const HOST = '127.0.0.40';
const ROOT_HOST = '127.0.0.41';

const ROOT_ZONE = `$TTL 3600
.        IN SOA ns. hostmaster.root. 1 7200 3600 1209600 300
.        IN NS  ns.
ns.      IN A   ${ROOT_HOST}
www.ext. IN A   192.0.2.99
mail.ext. IN MX 10 www.ext.
`;
const ROOT_HINTS = `.  3600000 IN NS ns.\nns. 3600000 IN A ${ROOT_HOST}\n`;

async function startRoot(port: number) {
  return runServer(tempDir({ 'root.zone': ROOT_ZONE }), `listen: ["${ROOT_HOST}:${port}"]\ncookies: { enabled: false }\nzones:\n  - name: "."\n    file: root.zone\n`);
}

/** The value of one sample in Prometheus text (first match), or undefined. */
function sample(text: string, metric: string): number | undefined {
  const re = new RegExp(`^${metric.replace(/[{}"=.|]/g, (c) => '\\' + c)} (\\S+)$`, 'm');
  const m = re.exec(text);
  return m ? Number(m[1]) : undefined;
}

async function tcpAsk(wire: Uint8Array) {
  const c = await TcpClient.open(15902, HOST);
  try {
    c.send(wire);
    return await c.read();
  } finally {
    c.close();
  }
}

test('cache hits reach the monitor: hit ratio, /api/stats numbers and portcullis_resolver_* metrics', async () => {
  const root = await startRoot(15901);
  const dir = tempDir({ 'root.hints': ROOT_HINTS });
  const srv = await runServer(dir, `listen: ["${HOST}:15902"]
cookies: { enabled: false }
resolver: { allow: [127.0.0.0/8], root-hints: root.hints, query-port: 15901, dnssec: off }
dnstap: { file: tap.fstrm, client-queries: false, client-responses: false, resolver-queries: true, resolver-responses: true }
`);
  const names = ['www.ext.', 'mail.ext.', 'nothere.ext.'];
  try {
    assert.ok(await srv.server.runtime.dnstap!.whenRunning(5000), 'dnstap file open');
    // Each name: the first query goes upstream, the next three come from the cache.
    const rcodes: number[] = [];
    for (const n of names) {
      for (let i = 0; i < 4; i++) {
        const type = n.startsWith('mail') ? 'MX' : 'A';
        const r = i === 3
          ? await tcpAsk(query(n, type, { rd: true }))
          : (await udpFrom('127.0.0.2', 15902, query(n, type, { rd: true, edns: {} }), HOST)).msg;
        rcodes.push(r.rcode);
      }
    }
    assert.deepEqual(rcodes, [0, 0, 0, 0, 0, 0, 0, 0, Rcode.NXDOMAIN, Rcode.NXDOMAIN, Rcode.NXDOMAIN, Rcode.NXDOMAIN]);
    const stats = srv.server.runtime.monitor.stats();
    assert.equal(stats.cache.hits, 9, 'three answers per name from the cache');
    assert.equal(stats.cache.misses, 3, 'one resolution per name');
    const text = await srv.server.runtime.monitor.metrics.metrics();
    assert.equal(sample(text, 'portcullis_cache_hits_total'), 9);
    assert.equal(sample(text, 'portcullis_cache_misses_total'), 3);
    assert.equal(sample(text, 'portcullis_cache_hit_ratio'), 0.75);
    const r = srv.server.runtime.resolver!;
    assert.equal(sample(text, 'portcullis_resolver_queries_total'), r.stats.queries);
    assert.equal(r.stats.queries, 12);
    assert.equal(sample(text, 'portcullis_resolver_servfail_total'), 0);
    assert.equal(sample(text, 'portcullis_resolver_cache_entries'), r.cache.size);
    assert.ok(r.cache.size >= 3, `cache holds the answers (${r.cache.size})`);
    assert.equal(sample(text, 'portcullis_resolver_cache_lookups_total{result="hit"}'), r.cache.stats.hits);
    assert.equal(sample(text, 'portcullis_resolver_cache_inserts_total'), r.cache.stats.inserts);
    assert.ok((sample(text, 'portcullis_resolver_cache_bytes') ?? 0) > 0);
    assert.equal(sample(text, 'portcullis_resolver_validations_total{result="bogus"}'), 0, 'dnssec: off validates nothing');
    const upstream = sample(text, 'portcullis_upstream_queries_total{outcome="ok"}') ?? 0;
    assert.ok(upstream >= 3, `upstream queries counted (${upstream})`);
  } finally {
    await srv.stop();
    await root.stop();
  }

  // dnstap: the resolver's exchanges, the bytes that went over the socket.
  const frames = new FrameDecoder().push(readFileSync(join(dir, 'tap.fstrm')));
  const msgs = frames.filter((f) => f.kind === 'data').map((f) => decodeDnstap((f as { payload: Buffer }).payload).message!);
  const rq = msgs.filter((m) => m.type === MessageType.RESOLVER_QUERY);
  const rr = msgs.filter((m) => m.type === MessageType.RESOLVER_RESPONSE);
  console.log(`dnstap: ${rq.length} resolver queries, ${rr.length} responses`);
  assert.ok(rq.length >= 3);
  assert.equal(rr.length, rq.length, 'every query answered');
  for (let i = 0; i < rq.length; i++) {
    const q = decodeMessage(rq[i]!.queryMessage!);
    const a = decodeMessage(rr[i]!.responseMessage!);
    assert.equal(a.id, q.id, 'the response frame answers the query frame');
    // 0x20: the question's case in the answer is the case we sent (exact bytes, not re-encoded).
    assert.deepEqual(a.question[0]!.name.labels, q.question[0]!.name.labels);
    assert.equal(Buffer.from(rq[i]!.responseAddress!).join('.'), ROOT_HOST, 'the upstream server');
    assert.equal(rq[i]!.responsePort, 15901);
    assert.ok((rq[i]!.queryPort ?? 0) > 1023, `our source port is logged (${rq[i]!.queryPort})`);
    assert.equal(rq[i]!.socketProtocol, SocketProtocol.UDP);
    assert.ok(rq[i]!.queryZone, 'the zone asked is logged');
    assert.equal(rq[i]!.queryZone![0], 0, 'the root zone (one zero byte)');
  }
});

test('validation outcomes are exported: an unsigned loopback root under the IANA trust anchor is bogus', async () => {
  const root = await startRoot(15903);
  const dir = tempDir({ 'root.hints': ROOT_HINTS });
  const srv = await runServer(dir, `listen: ["${HOST}:15904"]
cookies: { enabled: false }
resolver: { allow: [127.0.0.0/8], root-hints: root.hints, query-port: 15903 }
`);
  try {
    const r = (await udpFrom('127.0.0.2', 15904, query('www.ext.', 'A', { rd: true, edns: {} }), HOST)).msg;
    assert.equal(r.rcode, Rcode.SERVFAIL, 'bogus: the root has no signatures');
    const text = await srv.server.runtime.monitor.metrics.metrics();
    const v = srv.server.runtime.resolver!.validator!.stats;
    assert.ok(v.bogus >= 1, `validator counted bogus (${JSON.stringify(v)})`);
    assert.equal(sample(text, 'portcullis_resolver_validations_total{result="bogus"}'), v.bogus);
    assert.equal(sample(text, 'portcullis_resolver_validations_total{result="secure"}'), v.secure);
    assert.equal(sample(text, 'portcullis_resolver_servfail_total'), srv.server.runtime.resolver!.stats.servfail);
    assert.equal(srv.server.runtime.monitor.stats().cache.hits, 0, 'a SERVFAIL after upstream work is not a hit');
  } finally {
    await srv.stop();
    await root.stop();
  }
});

test('resolver metrics never go down when a reload replaces the resolver', async () => {
  const registry = new Registry();
  const make = (queries: number): ResolverStatsSource => ({
    stats: { queries, servfail: 1 },
    cache: { stats: { hits: queries * 2, misses: 1, inserts: 3, evictions: 0, bytes: 100 }, size: 3 },
    answers: { stats: { hits: queries * 3, stores: 2, invalidated: 1 } },
  });
  let current: ResolverStatsSource | undefined = make(10);
  registerResolverMetrics(registry, () => current);
  assert.equal(sample(await registry.metrics(), 'portcullis_resolver_queries_total'), 10);
  current = make(4); // a new resolver starts from zero
  let text = await registry.metrics();
  assert.equal(sample(text, 'portcullis_resolver_queries_total'), 14);
  assert.equal(sample(text, 'portcullis_resolver_cache_lookups_total{result="hit"}'), 28);
  assert.equal(sample(text, 'portcullis_resolver_cache_entries'), 3, 'gauges show the current resolver');
  assert.equal(sample(text, 'portcullis_resolver_precompiled_total{event="hit"}'), 42);
  assert.equal(sample(text, 'portcullis_resolver_precompiled_total{event="store"}'), 4);
  assert.equal(sample(text, 'portcullis_resolver_precompiled_total{event="invalidated"}'), 2);
  current = undefined; // recursion switched off
  text = await registry.metrics();
  assert.equal(sample(text, 'portcullis_resolver_queries_total'), 14);
  assert.equal(sample(text, 'portcullis_resolver_cache_entries'), 0);
});

test('NetUpstream onExchange: one call per query with the wire bytes, our port, the zone; failures too; a throwing hook changes nothing', async () => {
  const root = await startRoot(15905);
  const seen: UpstreamExchange[] = [];
  try {
    const up = new NetUpstream({ onExchange: (x) => { seen.push(x); throw new Error('hook failure'); } });
    const msg = makeMessage({ question: [{ name: Name.parse('wWw.ExT.'), type: RRType.A, class: 1 }] });
    for (const tcp of [false, true]) {
      const m = await up.query({ address: ROOT_HOST, port: 15905 }, msg, { tcp, timeout: 3000, zone: Name.parse('.') });
      assert.equal(m.answer[0]!.data.address, '192.0.2.99');
    }
    await assert.rejects(up.query({ address: ROOT_HOST, port: 15906 }, msg, { tcp: false, timeout: 300 }));
  } finally {
    await root.stop();
  }
  assert.equal(seen.length, 3);
  for (const [i, x] of seen.slice(0, 2).entries()) {
    assert.equal(x.protocol, i === 0 ? 'udp' : 'tcp');
    assert.deepEqual(x.server, { address: ROOT_HOST, port: 15905 });
    assert.ok(x.local && x.local.port > 0, 'our port');
    if (x.protocol === 'tcp') assert.equal(x.local!.address, '127.0.0.1', 'a connected socket knows its address');
    assert.equal(x.zone?.toString(), '.');
    const q = decodeMessage(x.query);
    const a = decodeMessage(x.response!);
    assert.equal(a.id, q.id);
    assert.deepEqual(q.question[0]!.name.labels, ['wWw', 'ExT'], 'the bytes sent');
    assert.ok(x.doneAtMs >= x.sentAtMs);
  }
  assert.equal(seen[2]!.response, undefined);
  assert.ok(seen[2]!.error === 'timeout' || seen[2]!.error === 'network', `failure reported (${seen[2]!.error})`);
});
