// DnstapSink against an in-process Frame Streams reader (Unix socket in a temp dir, and TCP on
// 127.0.0.100): handshake order, what each event carries, drops when the reader is slow or
// away, reconnection, the file writer, the config schema and the metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { ControlType, DNSTAP_CONTENT_TYPE, FrameDecoder, controlFrame, controlTypeName } from '../../src/monitor/dnstap-fstrm.js';
import { decodeDnstap } from '../../src/monitor/dnstap-decode.js';
import { MessageType, SocketFamily, SocketProtocol } from '../../src/monitor/dnstap-protobuf.js';
import { DnstapSink, dnstapSchema, dnstapSinkOptions, registerDnstapMetrics, type DnstapClientInfo } from '../../src/monitor/dnstap.js';
import { Name, encodeMessage, makeMessage } from '../../src/wire/index.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-dnstap-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let sockets = 0;
const sockPath = () => join(dir, `r${sockets++}.sock`);

/** A Frame Streams reader like fstrm_capture, recording what it got. */
class FakeReader extends EventEmitter {
  readonly controls: string[][] = [];
  readonly contentTypes: string[][] = [];
  readonly data: Buffer[] = [];
  readonly conns: net.Socket[] = [];
  constructor(readonly server: net.Server, private readonly opts: { accept?: string[]; onStart?: (s: net.Socket, index: number) => void }) {
    super();
    server.on('connection', (s) => this.serve(s));
  }

  private serve(s: net.Socket): void {
    const index = this.conns.push(s) - 1;
    const seen: string[] = [];
    this.controls.push(seen);
    const d = new FrameDecoder();
    s.on('error', () => {});
    s.on('data', (chunk) => {
      for (const f of d.push(chunk)) {
        if (f.kind === 'data') {
          this.data.push(Buffer.from(f.payload));
          this.emit('data');
          continue;
        }
        seen.push(controlTypeName(f.type));
        this.contentTypes.push([...f.contentTypes]);
        if (f.type === ControlType.READY) s.write(controlFrame(ControlType.ACCEPT, this.opts.accept ?? [DNSTAP_CONTENT_TYPE]));
        if (f.type === ControlType.START) {
          this.emit('start', index);
          this.opts.onStart?.(s, index);
        }
        if (f.type === ControlType.STOP) {
          s.write(controlFrame(ControlType.FINISH));
          s.end();
        }
      }
    });
  }

  /** Resolves when the reader has seen START on `n` connections. */
  async started(n: number): Promise<void> {
    while (this.controls.filter((c) => c.includes('START')).length < n) await once(this, 'start');
  }

  close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

async function reader(listen: string | { host: string; port: number }, opts: ConstructorParameters<typeof FakeReader>[1] = {}): Promise<FakeReader> {
  const server = net.createServer();
  const r = new FakeReader(server, opts);
  await new Promise<void>((resolve) => (typeof listen === 'string' ? server.listen(listen, resolve) : server.listen(listen.port, listen.host, resolve)));
  return r;
}

const qname = Name.parse('www.example.test.');
const query = (id: number) => encodeMessage(makeMessage({ id, rd: true, question: [{ name: qname, type: 28, class: 1 }] }));
const response = (id: number) => encodeMessage(makeMessage({ id, qr: true, rd: true, ra: true, question: [{ name: qname, type: 28, class: 1 }] }));
const req: DnstapClientInfo = {
  client: { address: '192.0.2.7', port: 40001 },
  local: { address: '127.0.0.1', port: 5353 },
  transport: 'udp',
  receivedAt: process.hrtime.bigint(),
};

test('handshake: READY, ACCEPT, START, data frames, STOP, FINISH; events carry the request', async () => {
  const path = sockPath();
  const r = await reader(path);
  const sink = new DnstapSink({ socket: path, identity: 'ns1', version: 'portcullis-test' });
  sink.logClientQuery(req, query(1));
  sink.logClientResponse(req, response(1));
  assert.equal(await sink.whenRunning(60_000), true);
  await sink.close();
  await r.close();
  assert.deepEqual(r.controls, [['READY', 'START', 'STOP']]);
  assert.deepEqual(r.contentTypes.slice(0, 2), [[DNSTAP_CONTENT_TYPE], [DNSTAP_CONTENT_TYPE]]);
  assert.equal(r.data.length, 2);
  const [q, a] = r.data.map(decodeDnstap);
  assert.equal(q!.identity?.toString(), 'ns1');
  assert.equal(q!.version?.toString(), 'portcullis-test');
  assert.equal(q!.type, 1);
  assert.equal(q!.message?.type, MessageType.CLIENT_QUERY);
  assert.equal(q!.message?.socketFamily, SocketFamily.INET);
  assert.equal(q!.message?.socketProtocol, SocketProtocol.UDP);
  assert.deepEqual([...q!.message!.queryAddress!], [192, 0, 2, 7]);
  assert.deepEqual([...q!.message!.responseAddress!], [127, 0, 0, 1]);
  assert.equal(q!.message?.queryPort, 40001);
  assert.equal(q!.message?.responsePort, 5353);
  assert.deepEqual(q!.message?.queryMessage, Buffer.from(query(1)));
  assert.equal(q!.message?.responseMessage, undefined);
  assert.equal(a!.message?.type, MessageType.CLIENT_RESPONSE);
  assert.deepEqual(a!.message?.responseMessage, Buffer.from(response(1)));
  // The response carries the query's arrival time (receivedAt) and its own, later, time.
  assert.deepEqual(a!.message?.queryTime, q!.message?.queryTime);
  const ns = (t: { sec: number; nsec: number }) => t.sec * 1e9 + t.nsec;
  assert.ok(ns(a!.message!.responseTime!) >= ns(q!.message!.queryTime!) - 1e6);
  assert.deepEqual({ ...sink.stats(), lastError: undefined }, { state: 'closed', logged: 2, sent: 2, dropped: 0, queued: 0, connects: 1, lastError: undefined });
});

test('TCP reader on 127.0.0.100:16510: same handshake and frames', async () => {
  const r = await reader({ host: '127.0.0.100', port: 16510 });
  const sink = new DnstapSink({ tcp: '127.0.0.100:16510', types: ['client-query'] });
  for (let i = 0; i < 5; i++) sink.logClientQuery({ ...req, transport: 'tcp', client: { address: '::1', port: 1000 + i }, local: { address: '::1', port: 53 } }, query(i));
  await sink.close();
  await r.close();
  assert.deepEqual(r.controls, [['READY', 'START', 'STOP']]);
  assert.deepEqual(r.data.map((d) => decodeDnstap(d).message?.queryPort), [1000, 1001, 1002, 1003, 1004]);
  const m = decodeDnstap(r.data[0]!).message!;
  assert.equal(m.socketFamily, SocketFamily.INET6);
  assert.equal(m.socketProtocol, SocketProtocol.TCP);
  assert.equal(m.queryAddress?.length, 16);
});

test('a reader that accepts another content type is refused and reported once', async () => {
  const path = sockPath();
  const r = await reader(path, { accept: ['protobuf:other.Thing'] });
  const errors: string[] = [];
  let told!: () => void;
  const reported = new Promise<void>((res) => (told = res));
  const sink = new DnstapSink({ socket: path, backoffMinMs: 5, backoffMaxMs: 20, onError: (e) => {
    errors.push(e.message);
    told();
  } });
  await reported;
  // Let it retry (and be refused) a few more times before closing.
  while (r.controls.length < 3) await once(r.server, 'connection');
  await sink.close();
  await r.close();
  assert.match(errors[0]!, /accepts only protobuf:other\.Thing/);
  assert.equal(errors.length, 1, 'one report for the whole streak of failures');
  assert.ok(r.controls.every((c) => !c.includes('START')), 'no START after a refused ACCEPT');
  assert.equal(sink.stats().connects, 0);
});

test('with no reader, frames beyond the queue are dropped and counted; close drops the rest', async () => {
  const sink = new DnstapSink({ socket: join(dir, 'nobody.sock'), queueSize: 8, backoffMinMs: 1000 });
  for (let i = 0; i < 20; i++) sink.logClientQuery(req, query(i));
  const mid = sink.stats();
  assert.equal(mid.logged, 20);
  assert.equal(mid.queued, 8);
  assert.equal(mid.dropped, 12);
  await sink.close();
  const end = sink.stats();
  assert.equal(end.sent, 0);
  assert.equal(end.dropped, 20);
  assert.equal(end.state, 'closed');
  sink.logClientQuery(req, query(99));
  assert.equal(sink.stats().dropped, 21, 'after close every frame is a drop');
});

test('a slow reader: log calls never wait, excess frames are dropped, every frame is sent or dropped', async (t) => {
  const path = sockPath();
  const r = await reader(path, { onStart: (s) => s.pause() });
  const sink = new DnstapSink({ socket: path, queueSize: 64, types: ['client-query'], closeTimeoutMs: 120_000 });
  assert.equal(await sink.whenRunning(60_000), true);
  const total = 3000;
  const big = Buffer.alloc(1200);
  for (let i = 0; i < total; i++) {
    big.writeUInt32BE(i, 0); // sequence number, to check order on the reader's side
    sink.logClientQuery(req, big);
    if (i % 100 === 99) await new Promise((res) => setImmediate(res));
  }
  const mid = sink.stats();
  t.diagnostic(`while paused: sent ${mid.sent}, dropped ${mid.dropped}, queued ${mid.queued} of ${total}`);
  assert.ok(mid.dropped > 0, 'a paused reader causes drops');
  assert.ok(mid.queued <= 64);
  for (const c of r.conns) c.resume();
  await sink.close();
  await r.close();
  const end = sink.stats();
  t.diagnostic(`after close: received ${r.data.length}, sent ${end.sent}, dropped ${end.dropped}`);
  assert.equal(end.sent + end.dropped, total);
  assert.equal(r.data.length, end.sent, 'everything handed to the socket arrived');
  const seq = r.data.map((d) => Buffer.from(decodeDnstap(d).message!.queryMessage!).readUInt32BE(0));
  assert.ok(seq.every((v, i) => i === 0 || v > seq[i - 1]!), 'frames arrive in order, gaps only where dropped');
});

test('a lost reader is reconnected with backoff and frames go to the new connection', async () => {
  const path = sockPath();
  const r = await reader(path, { onStart: (s, index) => { if (index === 0) s.destroy(); } });
  const errors: string[] = [];
  const sink = new DnstapSink({ socket: path, backoffMinMs: 10, types: ['client-query'], onError: (e) => errors.push(e.message) });
  await r.started(2);
  assert.equal(await sink.whenRunning(60_000), true);
  for (let i = 0; i < 5; i++) sink.logClientQuery(req, query(i));
  await sink.close();
  await r.close();
  assert.equal(r.data.length, 5);
  assert.equal(sink.stats().connects, 2);
  assert.deepEqual(r.controls[1], ['READY', 'START', 'STOP']);
  assert.equal(errors.length, 1);
});

test('frames logged before the reader exists are queued and delivered once it appears', async () => {
  const path = sockPath();
  const sink = new DnstapSink({ socket: path, backoffMinMs: 5, backoffMaxMs: 40, types: ['client-query'] });
  for (let i = 0; i < 5; i++) sink.logClientQuery(req, query(i));
  assert.equal(sink.stats().queued, 5);
  const r = await reader(path);
  await r.started(1);
  await sink.close();
  await r.close();
  assert.equal(r.data.length, 5);
  assert.equal(sink.stats().dropped, 0);
});

test('file output: START with the content type, frames, STOP; no handshake', async () => {
  const file = join(dir, 'out.fstrm');
  const sink = new DnstapSink({ file, types: ['client-query', 'resolver-query', 'resolver-response'] });
  sink.logClientQuery(req, query(1));
  sink.logResolverQuery({ server: { address: '2001:db8::35', port: 53 }, local: { address: '2001:db8::1', port: 33333 }, protocol: 'tcp', zone: 'example.test.' }, query(2));
  sink.logResolverResponse({ server: { address: '198.51.100.1', port: 53 }, protocol: 'udp', zone: Name.parse('test.'), sentAt: process.hrtime.bigint() }, response(2));
  sink.logClientResponse(req, response(1)); // not enabled
  await sink.close();
  const frames = new FrameDecoder().push(readFileSync(file));
  assert.deepEqual(frames.map((f) => (f.kind === 'data' ? 'data' : controlTypeName(f.type))), ['START', 'data', 'data', 'data', 'STOP']);
  assert.deepEqual(frames[0]!.kind === 'control' && frames[0]!.contentTypes, [DNSTAP_CONTENT_TYPE]);
  const msgs = frames.flatMap((f) => (f.kind === 'data' ? [decodeDnstap(f.payload).message!] : []));
  assert.deepEqual(msgs.map((m) => m.type), [MessageType.CLIENT_QUERY, MessageType.RESOLVER_QUERY, MessageType.RESOLVER_RESPONSE]);
  const [, rq, rr] = msgs;
  // Resolver events: we are the querier (query_address), the server responds (response_address).
  assert.equal(Buffer.from(rq!.responseAddress!).toString('hex'), '20010db8000000000000000000000035');
  assert.equal(Buffer.from(rq!.queryAddress!).toString('hex'), '20010db8000000000000000000000001');
  assert.equal(rq!.queryPort, 33333);
  assert.equal(rq!.responsePort, 53);
  assert.equal(rq!.socketProtocol, SocketProtocol.TCP);
  assert.deepEqual([...rq!.queryZone!], [7, ...Buffer.from('example'), 4, ...Buffer.from('test'), 0]);
  assert.equal(rr!.socketFamily, SocketFamily.INET);
  assert.equal(rr!.queryAddress, undefined);
  assert.ok(rr!.queryTime && rr!.responseTime);
  assert.deepEqual(rr!.responseMessage, Buffer.from(response(2)));
  const s = sink.stats();
  assert.equal(s.logged, 3, 'a disabled type is not even counted');
  assert.equal(s.sent, 3);
  assert.equal(sink.wants('client-response'), false);
  assert.equal(sink.wants('resolver-query'), true);
});

test('a file that cannot be opened: reported, frames dropped, never thrown', async () => {
  const errors: string[] = [];
  const sink = new DnstapSink({ file: join(dir, 'missing-dir', 'x.fstrm'), onError: (e) => errors.push(e.message) });
  sink.logClientQuery(req, query(1));
  await sink.close();
  sink.logClientQuery(req, query(2));
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /missing-dir.*ENOENT/);
  assert.equal(sink.stats().sent + sink.stats().dropped, 2);
  assert.equal(sink.stats().dropped >= 1, true);
});

test('config: exactly one output, defaults, relative paths against the config folder', () => {
  const c = dnstapSchema.parse({ socket: 'run/dnstap.sock', identity: 'ns1' });
  assert.equal(c['client-queries'], true);
  assert.equal(c['resolver-queries'], false);
  assert.equal(c['queue-size'], 10_000);
  const o = dnstapSinkOptions(c, '/etc/portcullis');
  assert.equal(o.socket, '/etc/portcullis/run/dnstap.sock');
  assert.deepEqual(o.types, ['client-query', 'client-response']);
  const all = dnstapSinkOptions(dnstapSchema.parse({ file: '/var/log/d.fstrm', 'resolver-queries': true, 'resolver-responses': true, 'client-queries': false }));
  assert.equal(all.file, '/var/log/d.fstrm');
  assert.deepEqual(all.types, ['client-response', 'resolver-query', 'resolver-response']);
  assert.equal(dnstapSchema.parse({ tcp: '[::1]:6000' }).tcp, '[::1]:6000');
  const bad: Array<[unknown, RegExp]> = [
    [{}, /exactly one of socket, tcp or file/],
    [{ socket: '/a', file: '/b' }, /exactly one/],
    [{ tcp: 'localhost:6000' }, /ADDRESS:PORT/],
    [{ tcp: '127.0.0.1:70000' }, /ADDRESS:PORT/],
    [{ file: 'x', 'client-query': true }, /client-query/],
    [{ file: 'x', 'queue-size': 0 }, /queue-size|>=/],
  ];
  for (const [input, msg] of bad) {
    const r = dnstapSchema.safeParse(input);
    assert.equal(r.success, false, JSON.stringify(input));
    assert.match(JSON.stringify(r.error?.issues), msg, JSON.stringify(input));
  }
  assert.throws(() => new DnstapSink({}), /exactly one/);
  assert.throws(() => new DnstapSink({ tcp: 'nowhere' }), /bad tcp address/);
});

test('metrics: frames sent and dropped, kept across a sink swap', async () => {
  const registry = new Registry();
  let current: DnstapSink | undefined = new DnstapSink({ file: join(dir, 'm1.fstrm'), queueSize: 2, types: ['client-query'] });
  registerDnstapMetrics(registry, () => current);
  for (let i = 0; i < 5; i++) current.logClientQuery(req, query(i)); // 2 queued, 3 dropped
  await current.close();
  const first = await registry.metrics();
  assert.match(first, /portcullis_dnstap_frames_total\{outcome="sent"\} 2/);
  assert.match(first, /portcullis_dnstap_frames_total\{outcome="dropped"\} 3/);
  current = new DnstapSink({ file: join(dir, 'm2.fstrm'), types: ['client-query'] });
  current.logClientQuery(req, query(9));
  assert.equal(await current.whenRunning(60_000), true);
  const mid = await registry.metrics();
  assert.match(mid, /portcullis_dnstap_connected 1/);
  assert.match(mid, /portcullis_dnstap_queue_frames [01]\n/);
  await current.close();
  const end = await registry.metrics();
  assert.match(end, /portcullis_dnstap_frames_total\{outcome="sent"\} 3/);
  assert.match(end, /portcullis_dnstap_frames_total\{outcome="dropped"\} 3/);
  assert.match(end, /portcullis_dnstap_connected 0/);
});
