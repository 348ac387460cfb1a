// The wired server, driven over real loopback sockets: recursion with its ACL, views (split
// horizon), allow-query, rate limiting, cookies, the amplification cap, ANY, identity, the
// monitor and control API, online DNSSEC signing, and the self-audit. Servers on 127.0.0.70-79,
// ports 16200-16299; a Portcullis serving the root zone on 127.0.0.71 is the loopback Internet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { decodeCookie, EdeCode, EdnsOptionCode, getOption, Name, Rcode, RRClass, RRType } from '../../src/wire/index.js';
import { parseConfigText, DEFAULT_CONFIG_TEXT } from '../../src/server/config.js';
import { selfAudit } from '../../src/server/self-audit.js';
import { ViewTable, aclRegistry } from '../../src/server/wiring.js';
import {
  edeOf, exampleZone, query, ROOT_HINTS, runCli, runServer, startRoot, startServe, tempDir, TcpClient, udpFrom, udpMaybe,
} from './wiring-harness.js';

const HOST = '127.0.0.70';

test('recursion: allowed clients get answers from the loopback root, others REFUSED with EDE 18; our zone is answered to all', async () => {
  const root = await startRoot(16201);
  const dir = tempDir({ 'example.test.zone': exampleZone('192.0.2.10'), 'root.hints': ROOT_HINTS });
  const srv = await runServer(dir, `listen: ["${HOST}:16202"]
zones: [{ name: example.test, file: example.test.zone }]
resolver: { allow: [127.0.0.2, friends], root-hints: root.hints, query-port: 16201, dnssec: off }
acl: { friends: [127.0.0.4/32] }
`);
  try {
    for (const client of ['127.0.0.2', '127.0.0.4']) {
      const r = (await udpFrom(client, 16202, query('www.ext.', 'A', { rd: true, edns: {} }), HOST)).msg;
      assert.equal(r.rcode, Rcode.NOERROR, `resolved for ${client}`);
      assert.ok(r.ra, 'RA set');
      assert.equal(r.aa, false);
      assert.deepEqual(r.answer.map((a) => a.data.address), ['192.0.2.99']);
    }
    const refused = (await udpFrom('127.0.0.3', 16202, query('www.ext.', 'A', { rd: true, edns: {} }), HOST)).msg;
    assert.equal(refused.rcode, Rcode.REFUSED);
    assert.equal(edeOf(refused), EdeCode.PROHIBITED);
    const ours = (await udpFrom('127.0.0.3', 16202, query('www.example.test.', 'A', { rd: true }), HOST)).msg;
    assert.equal(ours.rcode, Rcode.NOERROR);
    assert.ok(ours.aa);
    assert.equal(ours.answer[0]!.data.address, '192.0.2.10');
    // The resolver's cache answers the second time: the root saw one question for it.
    const before = root.server.udp[0]!.stats.received;
    await udpFrom('127.0.0.2', 16202, query('www.ext.', 'A', { rd: true }), HOST);
    assert.equal(root.server.udp[0]!.stats.received, before, 'answered from the cache');
  } finally {
    await srv.stop();
    await root.stop();
  }
});

test('recursion defaults: no resolver section → none; allow absent → loopback; [] → none; the embedded default recurses for loopback', () => {
  const table = (text: string) => new ViewTable({ config: parseConfigText(text, 't.yaml'), logger: { warn() {} } as never, served: () => new Map() }, parseConfigText(text, 't.yaml'), aclRegistry(parseConfigText(text, 't.yaml')));
  const allows = (text: string, address: string) => table(text).views[0]!.recursion.allows({ address });
  assert.equal(allows('listen: ["127.0.0.1:5353"]\n', '127.0.0.1'), false);
  assert.equal(allows('resolver: {}\n', '127.0.0.1'), true);
  assert.equal(allows('resolver: {}\n', '::1'), true);
  assert.equal(allows('resolver: {}\n', '192.0.2.1'), false);
  assert.equal(allows('resolver: { allow: [] }\n', '127.0.0.1'), false);
  assert.equal(allows(DEFAULT_CONFIG_TEXT, '127.0.0.1'), true);
  assert.equal(allows(DEFAULT_CONFIG_TEXT, '10.0.0.1'), false);
  assert.deepEqual(parseConfigText(DEFAULT_CONFIG_TEXT, 'd').listen, ['127.0.0.1:5353']);
});

test('views: 127.0.0.2 and 127.0.0.3 get different answers for the same name; recursion only in the inside view', async () => {
  const root = await startRoot(16211);
  const dir = tempDir({ 'inside.zone': exampleZone('10.0.0.10'), 'outside.zone': exampleZone('192.0.2.10'), 'root.hints': ROOT_HINTS });
  const srv = await runServer(dir, `listen: ["${HOST}:16212"]
acl: { inside-hosts: [127.0.0.2] }
resolver: { allow: [127.0.0.0/8], root-hints: root.hints, query-port: 16211, dnssec: off }
views:
  - name: inside
    clients: [inside-hosts]
    zones: [{ name: example.test, file: inside.zone }]
  - name: outside
    clients: [any]
    zones: [{ name: example.test, file: outside.zone }]
    recursion: []
`);
  try {
    const inside = (await udpFrom('127.0.0.2', 16212, query('www.example.test.', 'A'), HOST)).msg;
    const outside = (await udpFrom('127.0.0.3', 16212, query('www.example.test.', 'A'), HOST)).msg;
    assert.equal(inside.answer[0]!.data.address, '10.0.0.10');
    assert.equal(outside.answer[0]!.data.address, '192.0.2.10');
    const rIn = (await udpFrom('127.0.0.2', 16212, query('www.ext.', 'A', { rd: true, edns: {} }), HOST)).msg;
    assert.equal(rIn.rcode, Rcode.NOERROR);
    assert.equal(rIn.answer[0]!.data.address, '192.0.2.99');
    const rOut = (await udpFrom('127.0.0.3', 16212, query('www.ext.', 'A', { rd: true, edns: {} }), HOST)).msg;
    assert.equal(rOut.rcode, Rcode.REFUSED);
    assert.equal(edeOf(rOut), EdeCode.PROHIBITED);
    assert.equal(srv.server.getServed().size, 2, 'one zone per view');
  } finally {
    await srv.stop();
    await root.stop();
  }
});

test('views: no matching view is REFUSED; a view names a global zone; allow-query per zone and global', async () => {
  const dir = tempDir({ 'example.test.zone': exampleZone('192.0.2.10'), 'other.zone': exampleZone('192.0.2.20').replaceAll('example.test', 'other.test') });
  const srv = await runServer(dir, `listen: ["${HOST}:16221"]
allow-query: [127.0.0.0/8]
zones:
  - { name: example.test, file: example.test.zone, allow-query: [127.0.0.2] }
  - { name: other.test, file: other.zone }
views:
  - { name: lab, clients: [127.0.0.2, 127.0.0.3, 127.0.0.5], zones: [example.test, other.test] }
`);
  try {
    const ok = (await udpFrom('127.0.0.2', 16221, query('www.example.test.', 'A'), HOST)).msg;
    assert.equal(ok.rcode, Rcode.NOERROR);
    const denied = (await udpFrom('127.0.0.3', 16221, query('www.example.test.', 'A', { edns: {} }), HOST)).msg;
    assert.equal(denied.rcode, Rcode.REFUSED);
    assert.equal(edeOf(denied), EdeCode.PROHIBITED);
    const other = (await udpFrom('127.0.0.3', 16221, query('www.other.test.', 'A'), HOST)).msg;
    assert.equal(other.rcode, Rcode.NOERROR, 'the global allow-query admits 127/8');
    const noView = (await udpFrom('127.0.0.4', 16221, query('www.other.test.', 'A', { edns: {} }), HOST)).msg;
    assert.equal(noView.rcode, Rcode.REFUSED);
    assert.equal(edeOf(noView), EdeCode.PROHIBITED);
  } finally {
    await srv.stop();
  }
});

test('rate limiting: identical answers are limited per prefix with slips; exempt clients and TCP are not', async () => {
  const dir = tempDir({ 'example.test.zone': exampleZone('192.0.2.10') });
  const srv = await runServer(dir, `listen: ["${HOST}:16231"]
zones: [{ name: example.test, file: example.test.zone }]
cookies: { enabled: false }
rate-limit: { responses-per-second: 3, slip: 2, exempt: [127.0.0.5], ipv4-prefix-length: 32 }
`);
  try {
    const send = async (client: string, n: number) => {
      const out = { full: 0, tc: 0, none: 0 };
      const started = Date.now();
      for (let i = 0; i < n; i++) {
        const m = await udpMaybe(client, 16231, query('www.example.test.', 'A'), HOST, 150);
        if (!m) out.none++;
        else if (m.tc) out.tc++;
        else out.full++;
      }
      return { ...out, seconds: (Date.now() - started) / 1000 };
    };
    const limited = await send('127.0.0.4', 20);
    console.log('rate-limit: 20 queries from 127.0.0.4:', limited);
    assert.ok(limited.full <= 3 + Math.ceil(limited.seconds * 3) + 1, `at most the burst plus the rate got full answers: ${JSON.stringify(limited)}`);
    assert.ok(limited.tc >= 1, 'every 2nd limited answer slips (TC)');
    assert.ok(limited.none >= 1, 'the others are dropped');
    const exempt = await send('127.0.0.5', 10);
    assert.equal(exempt.full, 10, 'exempt client never limited');
    const tcp = await TcpClient.open(16231, HOST);
    for (let i = 0; i < 10; i++) tcp.send(query('www.example.test.', 'A'));
    for (let i = 0; i < 10; i++) assert.equal((await tcp.read()).rcode, Rcode.NOERROR);
    tcp.close();
    assert.ok(srv.server.runtime.limiter!.stats.limited >= limited.tc + limited.none);
  } finally {
    await srv.stop();
  }
});

test('cookies, amplification cap, ANY policy and hidden identity', async () => {
  const dir = tempDir({ 'example.test.zone': exampleZone('192.0.2.10') });
  const srv = await runServer(dir, `listen: ["${HOST}:16241"]
zones: [{ name: example.test, file: example.test.zone }]
cookies: { secret: "000102030405060708090a0b0c0d0e0f" }
max-amplification: 4
any: refuse
`);
  try {
    const clientCookie = { code: EdnsOptionCode.COOKIE, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) };
    const first = (await udpFrom('127.0.0.2', 16241, query('www.example.test.', 'A', { edns: { options: [clientCookie] } }), HOST)).msg;
    const opt = getOption(first.edns, EdnsOptionCode.COOKIE);
    assert.ok(opt, 'server cookie returned');
    const c = decodeCookie(opt);
    assert.deepEqual([...c.client], [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(c.server?.length, 16, 'RFC 9018 server cookie');

    // A big answer without a valid cookie is over 4x the query: TC. With the cookie: whole.
    const noCookie = await udpFrom('127.0.0.2', 16241, query('big.example.test.', 'TXT', { edns: {} }), HOST);
    assert.ok(noCookie.msg.tc, 'truncated by the amplification cap');
    assert.equal(noCookie.msg.answer.length, 0);
    const withCookie = await udpFrom('127.0.0.2', 16241, query('big.example.test.', 'TXT', { edns: { options: [opt] } }), HOST);
    assert.equal(withCookie.msg.tc, false);
    assert.equal(withCookie.msg.answer.length, 3);
    assert.ok(withCookie.size > 4 * 60, `the whole answer (${withCookie.size} bytes) came`);

    const any = (await udpFrom('127.0.0.2', 16241, query('example.test.', 'ANY'), HOST)).msg;
    assert.equal(any.rcode, Rcode.NOTIMP, 'any: refuse');
    const version = (await udpFrom('127.0.0.2', 16241, query('version.bind.', 'TXT', { cls: RRClass.CH }), HOST)).msg;
    assert.equal(version.rcode, Rcode.REFUSED, 'identity hidden by default');
  } finally {
    await srv.stop();
  }
});

test('monitor and control: /metrics counts the queries sent, /api/zones lists the zone, ctl status works', async () => {
  const dir = tempDir({ 'example.test.zone': exampleZone('192.0.2.10', 2024060101) });
  const srv = await runServer(dir, `listen: ["${HOST}:16251"]
zones: [{ name: example.test, file: example.test.zone }]
control: { listen: "127.0.0.72:16252" }
`);
  const { startServerControl } = await import('../../src/server/control.js');
  const ctl = (await startServerControl(srv.server, { version: 'test' }))!;
  try {
    const n = 7;
    for (let i = 0; i < n; i++) await udpFrom('127.0.0.2', 16251, query('www.example.test.', 'A'), HOST);
    const tcp = await TcpClient.open(16251, HOST);
    tcp.send(query('example.test.', 'SOA'));
    await tcp.read();
    tcp.close();
    const metrics = await (await fetch(`${ctl.control.url}/metrics`)).text();
    const count = (re: RegExp) => metrics.split('\n').filter((l) => re.test(l)).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
    assert.equal(count(/^portcullis_queries_total\{transport="udp",type="A"/), n, 'UDP A queries counted');
    assert.equal(count(/^portcullis_queries_total\{transport="tcp",type="SOA"/), 1);
    assert.match(metrics, /portcullis_queries_total\{[^}]*zone="example.test."/);
    const zones = (await (await fetch(`${ctl.control.url}/api/zones`)).json()) as Array<{ name: string; serial: number }>;
    assert.deepEqual(zones.map((z) => [z.name, z.serial]), [['example.test.', 2024060101]]);
    const stats = (await (await fetch(`${ctl.control.url}/api/stats`)).json()) as { queries: number; tcpConnections: number };
    assert.equal(stats.queries, n + 1);
    const status = await runCli(['ctl', '--url', ctl.control.url, 'status']);
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout) as { version: string; zones: number; listen: string[] };
    assert.equal(s.version, 'test');
    assert.equal(s.zones, 1);
    assert.ok(s.listen.includes(`${HOST}:16251/udp`));
    const flush = await fetch(`${ctl.control.url}/api/cache/flush`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(flush.status, 409, 'no resolver, no cache');
    const reload = (await (await fetch(`${ctl.control.url}/api/reload`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).json()) as { ok: boolean; kept: string[] };
    assert.equal(reload.ok, true);
    assert.deepEqual(reload.kept, ['example.test']);
  } finally {
    ctl.provider.stop();
    await ctl.control.close();
    await srv.stop();
  }
});

test('DNSSEC: a zone with dnssec.sign answers DNSKEY and RRSIGs with DO; the keys survive a reload', async () => {
  const dir = tempDir({ 'example.test.zone': exampleZone('192.0.2.10', 7) });
  const srv = await runServer(dir, `listen: ["${HOST}:16261"]
zones:
  - { name: example.test, file: example.test.zone, dnssec: { sign: true, denial: nsec } }
`);
  try {
    const tcp = await TcpClient.open(16261, HOST);
    tcp.send(query('example.test.', 'DNSKEY', { edns: { do: true } }));
    const dnskey = await tcp.read();
    assert.equal(dnskey.rcode, Rcode.NOERROR);
    assert.ok(dnskey.answer.some((r) => r.type === RRType.DNSKEY), 'DNSKEY answered');
    assert.ok(dnskey.answer.some((r) => r.type === RRType.RRSIG), 'with its RRSIG');
    const a = (await udpFrom('127.0.0.2', 16261, query('www.example.test.', 'A', { edns: { do: true } }), HOST)).msg;
    assert.deepEqual(a.answer.map((r) => r.type).sort(), [RRType.A, RRType.RRSIG].sort());
    const noDo = (await udpFrom('127.0.0.2', 16261, query('www.example.test.', 'A', { edns: {} }), HOST)).msg;
    assert.deepEqual(noDo.answer.map((r) => r.type), [RRType.A], 'no RRSIG without DO');
    const nx = (await udpFrom('127.0.0.2', 16261, query('nothere.example.test.', 'A', { edns: { do: true } }), HOST)).msg;
    assert.equal(nx.rcode, Rcode.NXDOMAIN);
    assert.ok(nx.authority.some((r) => r.type === RRType.NSEC), 'NSEC denial proof');
    // A reload with a changed file signs again with the same key.
    writeFileSync(join(dir, 'example.test.zone'), exampleZone('192.0.2.11', 8));
    const r = await srv.server.reload();
    assert.deepEqual(r.loaded, ['example.test']);
    tcp.send(query('example.test.', 'DNSKEY', { edns: { do: true } }));
    const again = await tcp.read();
    const keys = (m: typeof again) => m.answer.filter((x) => x.type === RRType.DNSKEY).map((x) => JSON.stringify(x.data)).sort();
    assert.deepEqual(keys(again), keys(dnskey), 'same keys after the reload');
    const a2 = (await udpFrom('127.0.0.2', 16261, query('www.example.test.', 'A', { edns: { do: true } }), HOST)).msg;
    assert.equal(a2.answer.find((x) => x.type === RRType.A)!.data.address, '192.0.2.11');
    tcp.close();
  } finally {
    await srv.stop();
  }
});

test('self-audit: open resolver refused (exit 1), warnings for transfers to any, updates without TSIG, public listeners without RRL, identity', async () => {
  const base = 'zones: [{ name: example.test, file: x.zone, allow-transfer: [any], allow-update: [192.0.2.1] }]\nidentity: { version: "9.9" }\n';
  const open = parseConfigText(`listen: ["192.0.2.1:53"]\nresolver: { allow: [any] }\n${base}`, 'o.yaml');
  const a = selfAudit(open);
  assert.equal(a.fatal?.check, 'open-resolver');
  assert.match(a.fatal!.message, /open-resolver: true/);
  assert.deepEqual(a.warnings.map((w) => w.check).sort(), ['identity-disclosed', 'public-without-rate-limit', 'transfer-any', 'update-without-tsig']);
  assert.equal(selfAudit(parseConfigText(`listen: ["192.0.2.1:53"]\nresolver: { allow: [any], open-resolver: true }\n`, 'o.yaml')).fatal, undefined);
  assert.equal(selfAudit(parseConfigText(`listen: ["127.0.0.1:53"]\nresolver: { allow: [any] }\n`, 'o.yaml')).fatal, undefined, 'loopback only: not open');
  assert.equal(selfAudit(parseConfigText(`listen: ["10.0.0.1:53"]\nresolver: { allow: [10.0.0.0/8, 192.168.0.0/16] }\n`, 'o.yaml')).fatal, undefined, 'private prefixes are fine');
  assert.equal(selfAudit(parseConfigText(`listen: ["10.0.0.1:53"]\nacl: { x: [198.51.100.0/24] }\nresolver: { allow: [x] }\n`, 'o.yaml')).fatal?.check, 'open-resolver', 'named lists are expanded');

  // serve: refuses before binding (192.0.2.1 is not on this host: a bind would exit 2).
  const dir = tempDir({ 'x.zone': exampleZone('192.0.2.10') });
  writeFileSync(join(dir, 'open.yaml'), `listen: ["192.0.2.1:16271"]\nresolver: { allow: [any] }\n`);
  const refused = startServe(['serve', '--config', join(dir, 'open.yaml')]);
  const { code } = await refused.exited;
  assert.equal(code, 1);
  assert.ok(refused.lines.some((l) => /"msg":"self-audit"/.test(l) && /open-resolver/.test(l)), refused.lines.join('\n'));
  const check = await runCli(['check-config', join(dir, 'open.yaml')]);
  assert.equal(check.code, 1);
  assert.match(check.stderr, /open-resolver/);

  writeFileSync(join(dir, 'warn.yaml'), `listen: ["${HOST}:16272"]\n${base}`);
  const child = startServe(['serve', '--config', join(dir, 'warn.yaml')]);
  try {
    await child.ready;
    const audits = child.lines.filter((l) => /"msg":"self-audit"/.test(l));
    assert.deepEqual(audits.map((l) => (JSON.parse(l) as { check: string }).check).sort(), ['identity-disclosed', 'transfer-any', 'update-without-tsig']);
  } finally {
    child.proc.kill('SIGTERM');
    await child.exited;
  }
});

test('serve (child process): the example-style config with control, recursion and metrics; SIGTERM exits 0', async () => {
  const root = await startRoot(16281);
  const dir = tempDir({ 'example.test.zone': exampleZone('192.0.2.10', 5), 'root.hints': ROOT_HINTS });
  writeFileSync(join(dir, 'p.yaml'), `listen: ["${HOST}:16282"]
zones: [{ name: example.test, file: example.test.zone }]
resolver: { allow: [localhost], root-hints: root.hints, query-port: 16281, dnssec: off }
rate-limit: { responses-per-second: 50 }
max-amplification: 10
control: { listen: "127.0.0.72:16283" }
`);
  const child = startServe(['serve', '--config', join(dir, 'p.yaml')]);
  try {
    await child.ready;
    const r = (await udpFrom('127.0.0.9', 16282, query('mail.ext.', 'MX', { rd: true, edns: {} }), HOST)).msg;
    assert.equal(r.rcode, Rcode.NOERROR);
    assert.equal(r.answer[0]!.type, RRType.MX);
    const z = await runCli(['ctl', '--url', 'http://127.0.0.72:16283', 'zones']);
    assert.equal(z.code, 0, z.stderr);
    assert.equal((JSON.parse(z.stdout) as Array<{ serial: number }>)[0]!.serial, 5);
    const cache = await runCli(['ctl', '--url', 'http://127.0.0.72:16283', 'cache', 'mail.ext.', 'MX']);
    assert.equal(cache.code, 0, cache.stderr);
    assert.match(cache.stdout, /www\.ext\./i, 'the cached MX');
    const metrics = await (await fetch('http://127.0.0.72:16283/metrics')).text();
    assert.match(metrics, /portcullis_upstream_queries_total\{outcome="ok"\} [1-9]/);
    assert.match(metrics, /portcullis_cache_entries [1-9]/);
  } finally {
    child.proc.kill('SIGTERM');
    assert.equal((await child.exited).code, 0);
    await root.stop();
  }
});

test('a fresh server answers before its zones are sorted; settle() sorts them (canonical order, apex first)', async () => {
  const dir = tempDir({ 'example.test.zone': exampleZone('192.0.2.10') });
  const srv = await runServer(dir, `listen: ["${HOST}:16285"]
zones:
  - name: example.test
    file: example.test.zone
`);
  try {
    const zone = srv.server.zones.get(Name.parse('example.test.'), RRClass.IN)!;
    assert.equal(zone.sorted, false, 'loading and binding did not sort');
    const r = (await udpFrom('127.0.0.2', 16285, query('www.example.test.', 'A'), HOST)).msg;
    assert.equal(r.rcode, Rcode.NOERROR);
    assert.equal(r.answer[0]!.data.address, '192.0.2.10');
    await srv.server.settle();
    assert.equal(zone.sorted, true);
    assert.equal(zone.nodes[0], zone.apex);
    const keys = zone.nodes.map((n) => n.name);
    for (let i = 1; i < keys.length; i++) assert.ok(keys[i - 1]!.compare(keys[i]!) < 0, `${keys[i - 1]} before ${keys[i]}`);
  } finally {
    await srv.stop();
  }
});
