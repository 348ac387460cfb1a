// Round two of the server wiring, over real loopback sockets: TSIG-signed ordinary queries
// (verified, the key name handed to ACLs and views, answers signed; BADKEY/BADSIG/BADTIME),
// the dnstap output (client, auth and resolver events read back with the module's decoder;
// reload keeps or replaces the sink), and zone loading through loadZoneFile (errors located,
// signed zones still signed). Servers on 127.0.0.73-75, ports 16290-16299; a Portcullis
// serving the root zone on 127.0.0.71 is the loopback Internet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeMessage, Rcode, RRType } from '../../src/wire/index.js';
import { makeTsigKey, readTsig, signMessage, verifyMessage, type TsigKey } from '../../src/xfr/tsig.js';
import { FrameDecoder, controlTypeName } from '../../src/monitor/dnstap-fstrm.js';
import { decodeDnstap } from '../../src/monitor/dnstap-decode.js';
import { MessageType, SocketProtocol } from '../../src/monitor/dnstap-protobuf.js';
import { loadZone } from '../../src/server/zones.js';
import { parseConfigText } from '../../src/server/config.js';
import { configuredStepNames } from '../../src/server/wiring.js';
import { exampleZone, query, ROOT_HINTS, runServer, startRoot, tempDir, TcpClient } from './wiring-harness.js';

const HOST = '127.0.0.73';
const SECRET1 = Buffer.from('portcullis-test-key-one-0123456789').toString('base64');
const SECRET2 = Buffer.from('portcullis-test-key-two-0123456789').toString('base64');
const KEY1 = makeTsigKey('inside-key', 'hmac-sha256', SECRET1);
const KEY2 = makeTsigKey('other-key', 'hmac-sha512', SECRET2);

/** One UDP exchange with the raw answer bytes (TSIG is checked on bytes). */
function udpRaw(port: number, wire: Uint8Array, host = HOST, timeoutMs = 4000): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error(`no UDP answer from ${host}:${port}`));
    }, timeoutMs);
    s.on('message', (buf) => {
      clearTimeout(t);
      s.close();
      resolve(new Uint8Array(buf));
    });
    s.bind(0, '127.0.0.2', () => s.send(wire, port, host));
  });
}

function signed(name: string, type: string, key: TsigKey, now?: number): { wire: Uint8Array; mac: Uint8Array } {
  return signMessage(query(name, type, { edns: {} }), key, now === undefined ? {} : { now });
}

const keysConfig = `keys:
  inside-key: { algorithm: hmac-sha256, secret: "${SECRET1}" }
  other-key: { algorithm: hmac-sha512, secret: "${SECRET2}" }
`;

test('TSIG on queries: the key selects the view, answers are signed with the request MAC, key ACLs apply', async () => {
  const other = exampleZone('192.0.2.30').replaceAll('example.test', 'other.test');
  const dir = tempDir({ 'inside.zone': exampleZone('10.0.0.10'), 'outside.zone': exampleZone('192.0.2.10'), 'other.zone': other });
  const srv = await runServer(dir, `listen: ["${HOST}:16290"]
cookies: { enabled: false }
${keysConfig}zones:
  - { name: other.test, file: other.zone, allow-query: [key other-key] }
views:
  - { name: signed, clients: [any], keys: [inside-key], zones: [{ name: example.test, file: inside.zone }] }
  - { name: public, clients: [any], zones: [{ name: example.test, file: outside.zone }, other.test] }
`);
  try {
    // Signed with inside-key: the signed view; the answer carries a TSIG over the request MAC.
    const q1 = signed('www.example.test.', 'A', KEY1);
    const raw1 = await udpRaw(16290, q1.wire);
    const v1 = verifyMessage(raw1, (n) => (n.equals(KEY1.name) ? KEY1 : undefined), { requestMac: q1.mac });
    assert.ok(v1?.ok, `answer signed with inside-key and verifies: ${JSON.stringify(v1 && !v1.ok ? v1.reason : '')}`);
    const m1 = decodeMessage(raw1);
    assert.equal(m1.rcode, Rcode.NOERROR);
    assert.equal(m1.answer[0]!.data.address, '10.0.0.10', 'the view selected by the key');
    assert.equal(m1.additional.at(-1)!.type, RRType.TSIG, 'TSIG is the last record');
    assert.ok(m1.edns, 'OPT kept before the TSIG');

    // Unsigned: the public view, no TSIG.
    const m2 = decodeMessage(await udpRaw(16290, query('www.example.test.', 'A')));
    assert.equal(m2.answer[0]!.data.address, '192.0.2.10');
    assert.ok(!m2.additional.some((r) => r.type === RRType.TSIG), 'unsigned answer');

    // Signed with other-key: not the signed view (keys: [inside-key]); allow-query [key other-key] admits it.
    const q3 = signed('www.other.test.', 'A', KEY2);
    const raw3 = await udpRaw(16290, q3.wire);
    assert.ok(verifyMessage(raw3, () => KEY2, { requestMac: q3.mac })?.ok, 'answer signed with other-key');
    const m3 = decodeMessage(raw3);
    assert.equal(m3.rcode, Rcode.NOERROR);
    assert.equal(m3.answer[0]!.data.address, '192.0.2.30');
    const m4 = decodeMessage(await udpRaw(16290, query('www.other.test.', 'A')));
    assert.equal(m4.rcode, Rcode.REFUSED, 'unsigned: allow-query [key other-key] refuses');

    // Over TCP as well.
    const tcp = await TcpClient.open(16290, HOST);
    const q5 = signed('www.example.test.', 'A', KEY1);
    tcp.send(q5.wire);
    const m5 = await tcp.read();
    tcp.close();
    assert.equal(m5.answer[0]!.data.address, '10.0.0.10');
    assert.equal(m5.additional.at(-1)!.type, RRType.TSIG);
  } finally {
    await srv.stop();
  }
});

test('TSIG errors on queries: NOTAUTH with BADKEY / BADSIG unsigned (empty MAC), BADTIME signed with our time', async () => {
  const dir = tempDir({ 'example.test.zone': exampleZone('192.0.2.10') });
  const srv = await runServer(dir, `listen: ["${HOST}:16291"]
cookies: { enabled: false }
${keysConfig}zones: [{ name: example.test, file: example.test.zone }]
`);
  try {
    const unknown = makeTsigKey('nobody', 'hmac-sha256', SECRET1);
    const badKey = await udpRaw(16291, signed('www.example.test.', 'A', unknown).wire);
    const tk = readTsig(badKey)!;
    assert.equal(decodeMessage(badKey).rcode, Rcode.NOTAUTH);
    assert.equal(tk.error, Rcode.BADKEY);
    assert.equal(tk.mac.length, 0, 'BADKEY: empty MAC');
    assert.equal(decodeMessage(badKey).answer.length, 0, 'no data given away');

    const wrongSecret = makeTsigKey('inside-key', 'hmac-sha256', SECRET2);
    const badSig = await udpRaw(16291, signed('www.example.test.', 'A', wrongSecret).wire);
    const ts = readTsig(badSig)!;
    assert.equal(decodeMessage(badSig).rcode, Rcode.NOTAUTH);
    assert.equal(ts.error, Rcode.BADSIG);
    assert.equal(ts.mac.length, 0, 'BADSIG: empty MAC');

    const past = Math.floor(Date.now() / 1000) - 3600;
    const q = signed('www.example.test.', 'A', KEY1, past);
    const badTime = await udpRaw(16291, q.wire);
    const tt = readTsig(badTime)!;
    assert.equal(decodeMessage(badTime).rcode, Rcode.NOTAUTH);
    assert.equal(tt.error, Rcode.BADTIME);
    assert.equal(tt.timeSigned, past, 'signed with the request time');
    assert.equal(tt.other.length, 6, 'our clock in Other Data');
    const ours = Buffer.from(tt.other).readUIntBE(0, 6);
    assert.ok(Math.abs(ours - Date.now() / 1000) < 600, `our time ${ours}`);
    assert.ok(verifyMessage(badTime, () => KEY1, { requestMac: q.mac, now: past })?.ok, 'BADTIME answer signed with the key');
  } finally {
    await srv.stop();
  }
});

interface Frames {
  controls: string[];
  messages: Array<NonNullable<ReturnType<typeof decodeDnstap>['message']> & { identity?: string }>;
}

function readDnstap(file: string): Frames {
  const frames = new FrameDecoder().push(readFileSync(file));
  const out: Frames = { controls: [], messages: [] };
  for (const f of frames) {
    if (f.kind === 'control') out.controls.push(controlTypeName(f.type));
    else {
      const d = decodeDnstap(f.payload);
      out.messages.push({ ...d.message!, identity: d.identity?.toString() });
    }
  }
  return out;
}

test('dnstap: client, auth and resolver events in a file; the bytes are the ones on the wire; reload keeps or replaces the sink; metrics', async () => {
  const root = await startRoot(16292);
  const dir = tempDir({ 'example.test.zone': exampleZone('192.0.2.10'), 'root.hints': ROOT_HINTS });
  const config = (file: string) => `listen: ["${HOST}:16293"]
cookies: { enabled: false }
zones: [{ name: example.test, file: example.test.zone }]
resolver: { allow: [127.0.0.0/8], root-hints: root.hints, query-port: 16292, dnssec: off }
dnstap: { file: ${file}, identity: ns-test, auth-queries: true, auth-responses: true, resolver-queries: true, resolver-responses: true }
`;
  const srv = await runServer(dir, config('tap1.fstrm'));
  assert.deepEqual(configuredStepNames(srv.server.config).map((s) => s.name).slice(-2), ['monitor', 'dnstap']);
  const sent: Uint8Array[] = [];
  const received: Uint8Array[] = [];
  try {
    const sink = srv.server.runtime.dnstap!;
    assert.ok(sink, 'sink opened');
    assert.ok(await sink.whenRunning(5000), 'file open');
    const q1 = query('www.example.test.', 'A', { edns: {} });
    sent.push(q1);
    received.push(await udpRaw(16293, q1));
    const q2 = query('www.ext.', 'A', { rd: true, edns: {} });
    sent.push(q2);
    const r2 = await udpRaw(16293, q2);
    received.push(r2);
    assert.equal(decodeMessage(r2).answer[0]!.data.address, '192.0.2.99', 'resolved through the loopback root');

    // Same section: the same sink (a reopened file would be truncated).
    writeFileSync(join(dir, 'example.test.zone'), exampleZone('192.0.2.11', 2));
    await srv.server.reload();
    assert.equal(srv.server.runtime.dnstap, sink, 'kept across a reload with the same dnstap section');
    const q3 = query('www.example.test.', 'A');
    sent.push(q3);
    received.push(await udpRaw(16293, q3));

    const metrics = await srv.server.runtime.monitor.metrics.metrics();
    assert.match(metrics, /portcullis_dnstap_frames_total\{outcome="dropped"\} 0/);
    assert.match(metrics, /portcullis_dnstap_connected 1/);

    // Changed section: the old sink is closed (STOP written) before the new one opens.
    writeFileSync(join(dir, 'portcullis.yaml'), config('tap2.fstrm'));
    await srv.server.reload();
    assert.notEqual(srv.server.runtime.dnstap, sink);
    assert.equal(sink.stats().state, 'closed');
    const q4 = query('www.example.test.', 'A');
    received.push(await udpRaw(16293, q4));
    const after = await srv.server.runtime.monitor.metrics.metrics();
    const sentFrames = Number(/portcullis_dnstap_frames_total\{outcome="sent"\} (\d+)/.exec(after)![1]);
    assert.ok(sentFrames >= 12, `the old sink's frames still counted (${sentFrames})`);
  } finally {
    await srv.stop();
    await root.stop();
  }

  const first = readDnstap(join(dir, 'tap1.fstrm'));
  assert.deepEqual([first.controls[0], first.controls.at(-1)], ['START', 'STOP'], 'a complete stream');
  const types = first.messages.map((m) => m.type);
  const count = (t: number) => types.filter((x) => x === t).length;
  console.log(`dnstap file 1: ${first.messages.length} messages, types ${JSON.stringify(types)}`);
  assert.equal(count(MessageType.CLIENT_QUERY), 3);
  assert.equal(count(MessageType.CLIENT_RESPONSE), 3);
  assert.equal(count(MessageType.AUTH_QUERY), 2, 'the two answers from our zone (AA)');
  assert.equal(count(MessageType.AUTH_RESPONSE), 2);
  assert.ok(count(MessageType.RESOLVER_QUERY) >= 1, 'the resolver asked the root');
  assert.equal(count(MessageType.RESOLVER_RESPONSE), count(MessageType.RESOLVER_QUERY));
  assert.ok(first.messages.every((m) => m.identity === 'ns-test'));
  const cq = first.messages.filter((m) => m.type === MessageType.CLIENT_QUERY);
  const cr = first.messages.filter((m) => m.type === MessageType.CLIENT_RESPONSE);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(new Uint8Array(cq[i]!.queryMessage!), sent[i], `query ${i} as sent`);
    assert.deepEqual(new Uint8Array(cr[i]!.responseMessage!), received[i], `response ${i} as received`);
    assert.equal(Buffer.from(cq[i]!.queryAddress!).join('.'), '127.0.0.2', 'the client');
    assert.equal(Buffer.from(cq[i]!.responseAddress!).join('.'), HOST, 'our listener');
    assert.equal(cq[i]!.responsePort, 16293);
    assert.equal(cq[i]!.socketProtocol, SocketProtocol.UDP);
  }
  const rq = first.messages.find((m) => m.type === MessageType.RESOLVER_QUERY)!;
  const rr = first.messages.find((m) => m.type === MessageType.RESOLVER_RESPONSE)!;
  assert.equal(Buffer.from(rq.responseAddress!).join('.'), '127.0.0.71', 'the upstream server');
  assert.equal(rq.responsePort, 16292);
  assert.equal(decodeMessage(rq.queryMessage!).id, decodeMessage(rr.responseMessage!).id, 'query frame carries the ID that was answered');

  const second = readDnstap(join(dir, 'tap2.fstrm'));
  assert.deepEqual([second.controls[0], second.controls.at(-1)], ['START', 'STOP'], 'closed on stop');
  assert.equal(second.messages.filter((m) => m.type === MessageType.CLIENT_RESPONSE).length, 1);
  assert.deepEqual(new Uint8Array(second.messages.find((m) => m.type === MessageType.CLIENT_RESPONSE)!.responseMessage!), received[3]);
});

test('dnstap config: exactly one output, relative paths against the config folder, unknown keys located', () => {
  const c = parseConfigText('dnstap: { file: tap.fstrm }\n', '/etc/portcullis/p.yaml');
  assert.equal(c.dnstap!.file, '/etc/portcullis/tap.fstrm');
  assert.equal(c.dnstap!['client-queries'], true, 'defaults applied');
  assert.throws(() => parseConfigText('dnstap: { file: a, socket: b }\n', 'p.yaml'), /p\.yaml:1:\d+: .*exactly one of socket, tcp or file/);
  assert.throws(() => parseConfigText('dnstap:\n  file: a\n  client-query: true\n', 'p.yaml'), /p\.yaml:3:3: unknown key "client-query"/);
  assert.throws(() => parseConfigText('workers: 2\ndnstap:\n  file: a\n', 'p.yaml'), /p\.yaml:3:9: dnstap\.file: cannot be shared by several workers/);
  assert.equal(parseConfigText('workers: 2\ndnstap: { socket: /run/d.sock }\n', 'p.yaml').dnstap!.socket, '/run/d.sock');
});

test('zone loading: unsigned zones through loadZoneFile (located errors, warnings), signed zones signed', async () => {
  const dir = tempDir({
    'good.zone': exampleZone('192.0.2.10') + 'www  IN A 192.0.2.10\nout.example.org. IN A 192.0.2.1\n',
    'bad.zone': exampleZone('192.0.2.10') + 'mail IN MX nonsense\n',
    'nosoa.zone': 'www 300 IN A 192.0.2.1\n',
    'cname.zone': exampleZone('192.0.2.10') + 'www IN CNAME other\n',
  });
  const good = await loadZone({ name: 'example.test', file: join(dir, 'good.zone') } as never);
  assert.deepEqual(good.errors, []);
  assert.ok(good.zone, 'loaded');
  assert.equal(good.zone!.serial, 1);
  assert.ok(good.warnings.some((w) => /good\.zone:10:\d+: .*out-of-zone/.test(w)), `out-of-zone warning located: ${good.warnings.join(' | ')}`);
  assert.ok(good.warnings.some((w) => /good\.zone:9:\d+: duplicate/.test(w)), 'duplicate located');
  assert.equal([...good.zone!.records()].filter((r) => r.type === RRType.A && r.name.toString() === 'www.example.test.').length, 1, 'duplicate collapsed');
  const bad = await loadZone({ name: 'example.test', file: join(dir, 'bad.zone') } as never);
  assert.equal(bad.zone, undefined);
  assert.match(bad.errors[0]!, /bad\.zone:9:\d+: /, 'syntax error located');
  const noSoa = await loadZone({ name: 'example.test', file: join(dir, 'nosoa.zone') } as never);
  assert.equal(noSoa.zone, undefined);
  assert.ok(noSoa.errors.some((e) => /SOA/.test(e)), noSoa.errors.join(' | '));
  const cname = await loadZone({ name: 'example.test', file: join(dir, 'cname.zone') } as never);
  assert.equal(cname.zone, undefined);
  assert.ok(cname.errors.some((e) => /cname\.zone:\d+:\d+: .*CNAME/i.test(e)), cname.errors.join(' | '));
  const missing = await loadZone({ name: 'example.test', file: join(dir, 'missing.zone') } as never);
  assert.equal(missing.zone, undefined);
  assert.match(missing.errors[0]!, /cannot open zone file: ENOENT/);

  const { ZoneSigner } = await import('../../src/dnssec/signer-service.js');
  const { signerSettings } = await import('../../src/dnssec/signer-config.js');
  const { zoneOrigin } = await import('../../src/server/zones.js');
  const zc = parseConfigText('zones: [{ name: example.test, file: good.zone, dnssec: { sign: true, denial: nsec } }]\n', join(dir, 'p.yaml')).zones[0]!;
  const signer = new ZoneSigner(zoneOrigin('example.test'), signerSettings(zc.dnssec!, zc.file!), () => undefined);
  const signedLoad = await loadZone(zc, { signer });
  assert.deepEqual(signedLoad.errors, []);
  const types = new Set([...signedLoad.zone!.records()].map((r) => r.type));
  assert.ok(types.has(RRType.DNSKEY) && types.has(RRType.RRSIG) && types.has(RRType.NSEC), 'signed: DNSKEY, RRSIG, NSEC');
  assert.ok(signedLoad.warnings.some((w) => /good\.zone:10:/.test(w)), 'the signed path keeps located warnings');
  const signedBad = await loadZone({ ...zc, file: join(dir, 'cname.zone') }, { signer });
  assert.equal(signedBad.zone, undefined);
  assert.ok(signedBad.errors.some((e) => /cname\.zone:\d+:\d+: /.test(e)));
});
