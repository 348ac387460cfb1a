// dnstap interop with the reference readers: fstrm_capture (fstrm-bin) receives our frames over
// a Unix socket and over TCP and writes a Frame Streams file; dnstap-read (BIND 9) prints it as
// YAML, and also reads a file our sink wrote directly. Every event we sent is matched against
// what dnstap-read printed: message type, query name and type, addresses, ports, protocol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DnstapSink, type DnstapClientInfo, type DnstapSinkOptions, type DnstapUpstreamInfo } from '../../src/monitor/dnstap.js';
import { Name, encodeMessage, makeMessage, typeFromString } from '../../src/wire/index.js';
import { findBinary, requirePeer } from './harness/peers.js';

const skip = requirePeer('fstrm_capture', 'dnstap-read');
const dir = mkdtempSync(join(tmpdir(), 'portcullis-dnstap-interop-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function bin(name: string): string {
  const p = findBinary(name);
  if (!p) throw new Error(`${name} not found (scripts/install-peers.sh installs it)`);
  return p;
}

/** fstrm_capture writing `out`; stop() sends SIGINT and waits, so it flushes and closes the file. */
function capture(out: string, listen: { unix: string } | { host: string; port: number }) {
  const args = ['-t', 'protobuf:dnstap.Dnstap', '-w', out, ...('unix' in listen ? ['-u', listen.unix] : ['-a', listen.host, '-p', String(listen.port)])];
  const child: ChildProcess = spawn(bin('fstrm_capture'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const exited = once(child, 'exit');
  return {
    log: () => log,
    async stop(): Promise<void> {
      if (child.exitCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}

interface Event {
  kind: 'CLIENT_QUERY' | 'CLIENT_RESPONSE' | 'RESOLVER_QUERY' | 'RESOLVER_RESPONSE';
  qname: string;
  qtype: string;
  protocol: 'UDP' | 'TCP' | 'DOT';
  family: 'INET' | 'INET6';
  queryAddress?: string;
  responseAddress: string;
  queryPort?: number;
  responsePort: number;
}

const wire = (id: number, qname: string, qtype: string, qr: boolean) =>
  encodeMessage(makeMessage({ id, qr, rd: true, ra: qr, question: [{ name: Name.parse(qname), type: typeFromString(qtype)!, class: 1 }] }));

/** A fixed mix: client traffic over UDP/IPv4, TCP/IPv6 and DoT, and one resolver exchange. */
function sendAll(sink: DnstapSink, tag: string): Event[] {
  const events: Event[] = [];
  const clients: Array<[DnstapClientInfo, string, string, Event['protocol'], Event['family']]> = [
    [{ client: { address: '127.0.0.1', port: 40001 }, local: { address: '127.0.0.1', port: 5353 }, transport: 'udp', receivedAt: process.hrtime.bigint() }, `a.${tag}.dnstap.test.`, 'A', 'UDP', 'INET'],
    [{ client: { address: '::1', port: 40002 }, local: { address: '::1', port: 5353 }, transport: 'tcp', receivedAt: process.hrtime.bigint() }, `b.${tag}.dnstap.test.`, 'AAAA', 'TCP', 'INET6'],
    [{ client: { address: '192.0.2.9', port: 40003 }, local: { address: '192.0.2.1', port: 853 }, transport: 'tls', receivedAt: process.hrtime.bigint() }, `c.${tag}.dnstap.test.`, 'MX', 'DOT', 'INET'],
  ];
  let id = 1;
  for (const [req, qname, qtype, protocol, family] of clients) {
    const base = { qname, qtype, protocol, family, queryAddress: req.client.address, responseAddress: req.local.address, queryPort: req.client.port, responsePort: req.local.port };
    sink.logClientQuery(req, wire(id, qname, qtype, false));
    events.push({ kind: 'CLIENT_QUERY', ...base });
    sink.logClientResponse(req, wire(id, qname, qtype, true));
    events.push({ kind: 'CLIENT_RESPONSE', ...base });
    id++;
  }
  const up: DnstapUpstreamInfo = { server: { address: '127.0.0.53', port: 53 }, local: { address: '127.0.0.1', port: 33333 }, protocol: 'udp', zone: 'dnstap.test.', sentAt: process.hrtime.bigint() };
  const qname = `d.${tag}.dnstap.test.`;
  const base = { qname, qtype: 'TXT', protocol: 'UDP' as const, family: 'INET' as const, queryAddress: '127.0.0.1', responseAddress: '127.0.0.53', queryPort: 33333, responsePort: 53 };
  sink.logResolverQuery(up, wire(id, qname, 'TXT', false));
  events.push({ kind: 'RESOLVER_QUERY', ...base });
  sink.logResolverResponse(up, wire(id, qname, 'TXT', true));
  events.push({ kind: 'RESOLVER_RESPONSE', ...base });
  return events;
}

const ALL: DnstapSinkOptions['types'] = ['client-query', 'client-response', 'resolver-query', 'resolver-response'];

/** `dnstap-read -y FILE` as parsed YAML documents. */
function readYaml(file: string): Array<Record<string, any>> {
  const r = spawnSync(bin('dnstap-read'), ['-y', file], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `dnstap-read -y failed: ${r.stderr}`);
  const docs = parseAllDocuments(r.stdout, { customTags: ['timestamp'] });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) assert.deepEqual(d.errors, [], 'dnstap-read printed valid YAML');
  return list.map((d) => d.toJS() as Record<string, any>).filter((d) => d && typeof d === 'object');
}

/** Checks each printed document against the event sent in the same position. */
function matchEvents(docs: Array<Record<string, any>>, events: Event[], identity: string): void {
  assert.equal(docs.length, events.length, 'dnstap-read printed one document per event');
  docs.forEach((d, i) => {
    const e = events[i]!;
    const m = d.message as Record<string, any>;
    const where = `event ${i} (${e.kind} ${e.qname})`;
    assert.equal(d.type, 'MESSAGE', where);
    assert.equal(d.identity, identity, where);
    assert.equal(d.version, 'portcullis-interop', where);
    assert.equal(m.type, e.kind, where);
    assert.equal(m.socket_family, e.family, where);
    // BIND 9.18's dnstap-read knows only UDP and TCP and prints newer values (DOT = 3, written
    // as the schema says) as UDP; newer readers print DOT. The unit tests check the value 3.
    if (e.protocol === 'DOT') assert.ok(['DOT', 'UDP'].includes(m.socket_protocol), `${where}: ${m.socket_protocol}`);
    else assert.equal(m.socket_protocol, e.protocol, where);
    assert.equal(m.response_address, e.responseAddress, where);
    assert.equal(m.response_port, e.responsePort, where);
    if (e.queryAddress) assert.equal(m.query_address, e.queryAddress, where);
    if (e.queryPort) assert.equal(m.query_port, e.queryPort, where);
    const isQuery = e.kind.endsWith('QUERY');
    const data = m[isQuery ? 'query_message_data' : 'response_message_data'] as Record<string, any>;
    assert.ok(data, `${where}: the DNS message is printed`);
    assert.deepEqual(data.QUESTION_SECTION, [`${e.qname} IN ${e.qtype}`], where);
    assert.equal(String(data.flags).split(' ').includes('qr'), !isQuery, `${where}: QR flag`);
    assert.ok(m[isQuery ? 'query_time' : 'response_time'] !== undefined, `${where}: time printed`);
  });
}

test('fstrm_capture over a Unix socket receives our frames; dnstap-read -y shows every event', { skip }, async (t) => {
  const sock = join(dir, 'capture.sock');
  const out = join(dir, 'unix.fstrm');
  const cap = capture(out, { unix: sock });
  // The sink retries until fstrm_capture listens: no sleep needed.
  const sink = new DnstapSink({ socket: sock, identity: 'ns-unix', version: 'portcullis-interop', types: ALL, backoffMinMs: 20, backoffMaxMs: 200 });
  try {
    assert.equal(await sink.whenRunning(30_000), true, `no handshake with fstrm_capture: ${sink.stats().lastError} ${cap.log()}`);
    sendAll(sink, 'unix');
    await sink.close();
  } finally {
    await sink.close();
    await cap.stop();
  }
  const s = sink.stats();
  assert.equal(s.sent, 8);
  assert.equal(s.dropped, 0);
  const docs = readYaml(out);
  t.diagnostic(`sent ${s.sent} frames; dnstap-read printed ${docs.length} documents; capture: ${cap.log().trim().split('\n').pop()}`);
  matchEvents(docs, sendAllExpected('unix'), 'ns-unix');
});

test('fstrm_capture over TCP (127.0.0.100:16501) receives the same events', { skip }, async (t) => {
  const out = join(dir, 'tcp.fstrm');
  const cap = capture(out, { host: '127.0.0.100', port: 16501 });
  const sink = new DnstapSink({ tcp: '127.0.0.100:16501', identity: 'ns-tcp', version: 'portcullis-interop', types: ALL, backoffMinMs: 20, backoffMaxMs: 200 });
  try {
    assert.equal(await sink.whenRunning(30_000), true, `no handshake with fstrm_capture: ${sink.stats().lastError} ${cap.log()}`);
    sendAll(sink, 'tcp');
  } finally {
    await sink.close();
    await cap.stop();
  }
  const docs = readYaml(out);
  t.diagnostic(`dnstap-read printed ${docs.length} documents`);
  matchEvents(docs, sendAllExpected('tcp'), 'ns-tcp');
});

test('dnstap-read reads a file the sink wrote directly (YAML and one-line forms)', { skip }, async (t) => {
  const out = join(dir, 'direct.fstrm');
  const sink = new DnstapSink({ file: out, identity: 'ns-file', version: 'portcullis-interop', types: ALL });
  sendAll(sink, 'file');
  await sink.close();
  matchEvents(readYaml(out), sendAllExpected('file'), 'ns-file');
  // One-line form: "<date> <time> CQ 127.0.0.1:40001 -> 127.0.0.1:5353 UDP 43b a.file.dnstap.test/IN/A"
  const r = spawnSync(bin('dnstap-read'), [out], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.diagnostic(lines.join(' | '));
  const short = { CLIENT_QUERY: 'CQ', CLIENT_RESPONSE: 'CR', RESOLVER_QUERY: 'RQ', RESOLVER_RESPONSE: 'RR' } as const;
  const expected = sendAllExpected('file');
  assert.equal(lines.length, expected.length);
  lines.forEach((line, i) => {
    const e = expected[i]!;
    assert.match(line, new RegExp(` ${short[e.kind]} .* ${e.qname.replace(/\.$/, '').replace(/\./g, '\\.')}/IN/${e.qtype}$`), line);
  });
});

test('after fstrm_capture restarts, the sink reconnects and later frames reach the new capture', { skip }, async (t) => {
  const sock = join(dir, 'restart.sock');
  const first = join(dir, 'restart-1.fstrm');
  const second = join(dir, 'restart-2.fstrm');
  let cap = capture(first, { unix: sock });
  const sink = new DnstapSink({ socket: sock, identity: 'ns-restart', version: 'portcullis-interop', types: ['client-query'], backoffMinMs: 20, backoffMaxMs: 200 });
  const req: DnstapClientInfo = { client: { address: '127.0.0.1', port: 40009 }, local: { address: '127.0.0.1', port: 5353 }, transport: 'udp' };
  try {
    assert.equal(await sink.whenRunning(30_000), true);
    for (let i = 1; i <= 3; i++) sink.logClientQuery(req, wire(i, `before${i}.dnstap.test.`, 'A', false));
    await cap.stop();
    // fstrm_capture removes its socket on exit; the sink now retries in the background.
    for (let i = 4; i <= 6; i++) sink.logClientQuery(req, wire(i, `after${i}.dnstap.test.`, 'A', false));
    if (existsSync(sock)) rmSync(sock);
    cap = capture(second, { unix: sock });
    // Wait for the second handshake: connects goes to 2 (bounded by the sink's own backoff).
    for (let n = 0; n < 600 && sink.stats().connects < 2; n++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(sink.stats().connects, 2, `no reconnect: ${sink.stats().lastError}`);
  } finally {
    await sink.close();
    await cap.stop();
  }
  const names = (f: string) => readYaml(f).map((d) => (d.message.query_message_data.QUESTION_SECTION as string[])[0]!.split(' ')[0]);
  const a = names(first);
  const b = names(second);
  t.diagnostic(`first capture: ${a.join(', ')}; second capture: ${b.join(', ')}; stats ${JSON.stringify(sink.stats())}`);
  assert.ok(a.every((n) => /^before\d\./.test(n)), 'the first capture has only frames sent before it stopped');
  assert.deepEqual(b, ['after4.dnstap.test.', 'after5.dnstap.test.', 'after6.dnstap.test.']);
  assert.equal(sink.stats().dropped, 0);
});

/** The events sendAll() produces for a tag, without a sink (for comparing). */
function sendAllExpected(tag: string): Event[] {
  const noop = { logClientQuery() {}, logClientResponse() {}, logResolverQuery() {}, logResolverResponse() {} } as unknown as DnstapSink;
  return sendAll(noop, tag);
}
