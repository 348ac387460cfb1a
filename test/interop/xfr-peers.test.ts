// Zone transfers with real peers on loopback (RFC 5936 AXFR, RFC 1995 IXFR, RFC 1996 NOTIFY,
// RFC 2136 UPDATE, RFC 8945 TSIG): BIND and Knot as secondaries of Portcullis, Portcullis as
// secondary of BIND, NSD as secondary taking our NOTIFY from `notify-source`, and a kill -9 crash
// test of dynamic update. Ports 16310-16329 on 127.0.0.1 (named listens only on addresses
// configured on an interface); the NSD test uses 127.0.0.114-115, ports 16375-16376.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeMessage, Name, Opcode, Rcode, RRClass, RRType, recordFromText, recordToText, type ResourceRecord, type SoaData } from '../../src/wire/index.js';
import { makeTsigKey } from '../../src/xfr/tsig.js';
import { exchangeUdp, transferIn, type Remote } from '../../src/xfr/client.js';
import { findBinary, portcullisBinary, requirePeer, requirePortcullis } from './harness/peers.js';
import { daemon as startDaemon, type Daemon } from './harness/daemon.js';

/** Spawns a daemon and waits (bounded, 20 s) until `ready()` holds. */
const daemon = (cmd: string, args: string[], cwd: string, ready: (out: string) => boolean | Promise<boolean>, what: string): Promise<Daemon> =>
  startDaemon(cmd, args, cwd, ready, what, 200);

const run = promisify(execFile);
const SECRET = Buffer.from('portcullis interop xfr secret 32').toString('base64');
const key = makeTsigKey('xfr-key', 'hmac-sha256', SECRET);
const ORIGIN = 'example.test';
const origin = Name.parse(ORIGIN + '.');
const HOST = '127.0.0.1';

function zoneText(serial: number, timers = '2 1 600 60'): string {
  return [
    `$ORIGIN ${ORIGIN}.`, '$TTL 300',
    `@ IN SOA ns1 hostmaster ${serial} ${timers}`,
    '@ IN NS ns1', 'ns1 IN A 127.0.0.1',
    ...Array.from({ length: 200 }, (_, i) => `h${i} IN A 192.0.2.${i % 250}`),
    'www IN CNAME h1', 'txt IN TXT "hello world"', '',
  ].join('\n');
}

const remote = (port: number, withKey = true): Remote => ({ address: HOST, port, key: withKey ? key : undefined, text: `${HOST}:${port}` });

/** The zone's serial as `r` serves it, undefined while it serves none. */
async function serialOn(r: Remote): Promise<number | undefined> {
  try {
    const { message } = await exchangeUdp(r, makeMessage({ question: [{ name: origin, type: RRType.SOA, class: RRClass.IN }] }), 500);
    const soa = message.answer.find((x) => x.type === RRType.SOA);
    return message.rcode === Rcode.NOERROR && soa ? (soa.data as SoaData).serial : undefined;
  } catch {
    return undefined;
  }
}

const serialAt = (port: number): Promise<number | undefined> => serialOn(remote(port, false));

async function waitFor(cond: () => Promise<boolean>, tries = 150): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** The zone as a sorted list of record texts, via a signed AXFR. */
async function axfrTexts(port: number): Promise<string[]> {
  const o = await transferIn(remote(port), origin, RRType.AXFR, undefined, { timeoutMs: 20_000 });
  assert.equal(o.kind, 'axfr');
  return o.kind === 'axfr' ? [...new Set(o.records.map((r) => recordToText(r)))].sort() : [];
}

async function nsupdate(port: number, commands: string[]): Promise<void> {
  const script = [`server ${HOST} ${port}`, `zone ${ORIGIN}`, ...commands, 'send', ''].join('\n');
  const child = spawn('nsupdate', ['-y', `hmac-sha256:xfr-key:${SECRET}`, '-t', '5']);
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  child.stdin.end(script);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  assert.equal(code, 0, `nsupdate failed: ${err}`);
}

async function startPortcullisYaml(dir: string, yaml: string): Promise<Daemon> {
  const bin = portcullisBinary()!;
  writeFileSync(join(dir, 'portcullis.yaml'), yaml);
  return daemon(process.execPath, [bin, 'serve', '--config', join(dir, 'portcullis.yaml')], dir, (o) => o.includes('"msg":"ready"'), 'portcullis');
}

const bindKey = `key "xfr-key" { algorithm hmac-sha256; secret "${SECRET}"; };`;
function bindConf(dir: string, port: number, zone: string): string {
  return [
    bindKey,
    `options { directory "${dir}"; pid-file "${dir}/named.pid"; listen-on port ${port} { ${HOST}; }; listen-on-v6 { none; };`,
    '  recursion no; dnssec-validation no; session-keyfile none; notify explicit; };',
    'controls { };',
    zone, '',
  ].join('\n');
}

const peersMissing = requirePeer('named', 'knotd', 'nsupdate') || requirePortcullis();

test('RFC 5936/1995/1996/2136: BIND and Knot as secondaries of Portcullis, nsupdate on Portcullis', { skip: peersMissing }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-xfr-out-'));
  const [P, B, K] = [16310, 16311, 16312];
  writeFileSync(join(dir, 'example.test.zone'), zoneText(2024010101));
  const procs: Daemon[] = [];
  try {
    const pc = await startPortcullisYaml(dir, [
      `listen: ["${HOST}:${P}"]`,
      'keys:', `  xfr-key: { algorithm: hmac-sha256, secret: "${SECRET}" }`,
      'zones:', `  - name: ${ORIGIN}`, '    file: example.test.zone',
      '    allow-transfer: [xfr-key]', '    allow-update: [xfr-key]',
      `    notify: ["${HOST}:${B} key xfr-key", "${HOST}:${K} key xfr-key"]`, '',
    ].join('\n'));
    procs.push(pc);
    writeFileSync(join(dir, 'named.conf'), bindConf(dir, B,
      `zone "${ORIGIN}" { type secondary; primaries { ${HOST} port ${P} key xfr-key; }; file "bind-sec.db"; allow-transfer { key xfr-key; }; };`));
    procs.push(await daemon(findBinary('named')!, ['-g', '-n', '1', '-c', join(dir, 'named.conf')], dir, async () => (await serialAt(B)) !== undefined, 'named'));
    writeFileSync(join(dir, 'knot.conf'), [
      'server:', `  rundir: "${dir}"`, `  listen: ${HOST}@${K}`,
      'log:', '  - target: stderr', '    any: info',
      'key:', '  - id: xfr-key', '    algorithm: hmac-sha256', `    secret: ${SECRET}`,
      'remote:', '  - id: primary', `    address: ${HOST}@${P}`, '    key: xfr-key',
      'acl:', '  - id: from-primary', `    address: ${HOST}`, '    key: xfr-key', '    action: notify',
      '  - id: xfr', '    key: xfr-key', '    action: transfer',
      'database:', `  storage: "${dir}/knotdb"`,
      'zone:', `  - domain: ${ORIGIN}`, `    storage: "${dir}"`, '    file: "knot-sec.db"', '    master: primary', '    acl: [from-primary, xfr]', '',
    ].join('\n'));
    procs.push(await daemon(findBinary('knotd')!, ['-c', join(dir, 'knot.conf')], dir, async () => (await serialAt(K)) !== undefined || /loaded|started/.test(''), 'knotd'));

    assert.ok(await waitFor(async () => (await serialAt(B)) === 2024010101 && (await serialAt(K)) === 2024010101), 'both secondaries transferred the zone (AXFR with TSIG)');
    const first = await axfrTexts(P);
    assert.deepEqual(await axfrTexts(B), first, 'BIND copy equals ours');
    assert.deepEqual(await axfrTexts(K), first, 'Knot copy equals ours');

    await nsupdate(P, ['update add added.example.test. 300 IN A 192.0.2.200', 'update delete h7.example.test. A', 'update add txt.example.test. 300 IN TXT "second"']);
    await nsupdate(P, ['update delete www.example.test. CNAME', 'update add www.example.test. 300 IN A 192.0.2.80']);
    const serial = await serialAt(P);
    assert.equal(serial, 2024010103, 'two updates, two serial increments');
    assert.ok(await waitFor(async () => (await serialAt(B)) === serial && (await serialAt(K)) === serial), `NOTIFY then IXFR reached both: BIND ${await serialAt(B)}, Knot ${await serialAt(K)}`);
    const after = await axfrTexts(P);
    assert.ok(after.some((l) => l.includes('added.example.test.')) && !after.some((l) => l.startsWith('h7.example.test.')));
    assert.deepEqual(await axfrTexts(B), after, 'BIND copy equals ours after the updates');
    assert.deepEqual(await axfrTexts(K), after, 'Knot copy equals ours after the updates');
    const ixfrOut = pc.out().split('\n').filter((l) => l.includes('"msg":"IXFR out"') && l.includes('"incremental":true'));
    assert.ok(ixfrOut.length >= 2, `the secondaries used IXFR (${ixfrOut.length} incremental transfers)`);
    t.diagnostic(`records ${after.length}; incremental IXFRs served: ${ixfrOut.length}`);

    // TSIG errors as peers see them: unknown key, wrong secret, unsigned.
    const { stdout: wrongKey } = await run('dig', ['-p', String(P), `@${HOST}`, '-y', `hmac-sha256:nokey:${SECRET}`, ORIGIN, 'AXFR', '+tries=1', '+time=3'], { timeout: 10_000 }).catch((e) => e);
    assert.match(wrongKey, /BADKEY|tsig.*(verify|fail)|NOTAUTH/i, 'unknown key: BADKEY');
    const badSecret = Buffer.from('another secret, not the one used').toString('base64');
    const { stdout: wrongSig } = await run('dig', ['-p', String(P), `@${HOST}`, '-y', `hmac-sha256:xfr-key:${badSecret}`, ORIGIN, 'SOA', '+tries=1', '+time=3'], { timeout: 10_000 }).catch((e) => e);
    assert.match(wrongSig, /BADSIG|tsig.*(verify|fail)|NOTAUTH/i, 'wrong secret: BADSIG');
    const { stdout: unsigned } = await run('dig', ['-p', String(P), `@${HOST}`, ORIGIN, 'AXFR', '+tries=1', '+time=3'], { timeout: 10_000 }).catch((e) => e);
    assert.match(unsigned, /Transfer failed|REFUSED/i, 'unsigned transfer refused');
  } finally {
    for (const p of procs.reverse()) await p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Portcullis as secondary of BIND: AXFR, NOTIFY + IXFR after nsupdate, restart from disk, expiry', { skip: requirePeer('named', 'nsupdate') || requirePortcullis() }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-xfr-in-'));
  const [B, P] = [16313, 16314];
  // expire 8 s so the test can watch the zone expire.
  writeFileSync(join(dir, 'primary.db'), zoneText(7, '2 1 8 60'));
  writeFileSync(join(dir, 'named.conf'), bindConf(dir, B,
    `zone "${ORIGIN}" { type primary; file "primary.db"; allow-transfer { key xfr-key; }; allow-update { key xfr-key; }; also-notify { ${HOST} port ${P} key xfr-key; }; };`));
  const yaml = [
    `listen: ["${HOST}:${P}"]`,
    'keys:', `  xfr-key: { algorithm: hmac-sha256, secret: "${SECRET}" }`,
    'zones:', `  - name: ${ORIGIN}`, '    file: secondary.zone', `    primaries: ["${HOST}:${B} key xfr-key"]`, '    allow-transfer: [xfr-key]', '',
  ].join('\n');
  let bind: Daemon | undefined;
  let pc: Daemon | undefined;
  try {
    bind = await daemon(findBinary('named')!, ['-g', '-n', '1', '-c', join(dir, 'named.conf')], dir, async () => (await serialAt(B)) !== undefined, 'named');
    pc = await startPortcullisYaml(dir, yaml);
    assert.ok(await waitFor(async () => (await serialAt(P)) === 7), `Portcullis transferred the zone:\n${pc.out().slice(-2000)}`);
    assert.deepEqual(await axfrTexts(P), await axfrTexts(B));
    await nsupdate(B, ['update add fromhere.example.test. 300 IN A 192.0.2.99', 'update delete h3.example.test. A']);
    assert.ok(await waitFor(async () => (await serialAt(P)) === 8), 'NOTIFY from BIND, then IXFR');
    assert.match(pc.out(), /IXFR in/, 'the change came incrementally');
    assert.deepEqual(await axfrTexts(P), await axfrTexts(B), 'copies equal after the update');

    // Restart with BIND down: served at once from the copy on disk, then expires.
    await pc.kill();
    await bind.kill();
    bind = undefined;
    pc = await startPortcullisYaml(dir, yaml);
    assert.equal(await serialAt(P), 8, 'served from disk right after start, no transfer');
    assert.ok(await waitFor(async () => (await serialAt(P)) === undefined, 100), 'no longer served after expire');
    assert.match(pc.out(), /expired/);
  } finally {
    await pc?.kill();
    await bind?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('notify-source: NSD, as secondary, takes our NOTIFY only from the address it allows', { skip: requirePeer('nsd') || requirePortcullis() }, async (t) => {
  // Two loopback addresses (NSD binds any address of 127.0.0.0/8): Portcullis primary on
  // 127.0.0.115:16376, NSD secondary on 127.0.0.114:16375 allowing NOTIFY from 127.0.0.115
  // only. An unbound socket would send from 127.0.0.1, which NSD refuses. Refresh is an hour,
  // so only a NOTIFY that NSD accepts brings the change over within the wait.
  const dir = mkdtempSync(join(tmpdir(), 'pc-notify-source-'));
  const [PRIMARY, SECONDARY] = ['127.0.0.115', '127.0.0.114'];
  const [P, N] = [16376, 16375];
  const at = (address: string, port: number): Remote => ({ address, port, text: `${address}:${port}` });
  writeFileSync(join(dir, 'example.test.zone'), zoneText(2024020101, '3600 600 86400 60'));
  const procs: Daemon[] = [];
  try {
    procs.push(await startPortcullisYaml(dir, [
      `listen: ["${PRIMARY}:${P}"]`,
      'keys:', `  xfr-key: { algorithm: hmac-sha256, secret: "${SECRET}" }`,
      'zones:', `  - name: ${ORIGIN}`, '    file: example.test.zone',
      '    allow-transfer: [127.0.0.0/8]', '    allow-update: [xfr-key]',
      `    notify: ["${SECONDARY}:${N}"]`, `    notify-source: ${PRIMARY}`, '',
    ].join('\n')));
    writeFileSync(join(dir, 'nsd.conf'), [
      'server:', `  ip-address: ${SECONDARY}@${N}`, '  do-ip6: no', '  username: ""', `  zonesdir: "${dir}"`,
      '  database: ""', `  pidfile: "${dir}/nsd.pid"`, `  xfrdfile: "${dir}/xfrd.state"`, `  zonelistfile: "${dir}/zone.list"`,
      `  xfrdir: "${dir}"`, '  server-count: 1', '  verbosity: 2',
      'remote-control:', '  control-enable: no',
      'zone:', `  name: "${ORIGIN}"`, '  zonefile: "nsd-sec.db"',
      `  request-xfr: AXFR ${PRIMARY}@${P} NOKEY`, `  allow-notify: ${PRIMARY} NOKEY`, '',
    ].join('\n'));
    const nsd = await daemon(findBinary('nsd')!, ['-d', '-c', join(dir, 'nsd.conf')], dir, async () => (await serialOn(at(SECONDARY, N))) !== undefined, 'nsd');
    procs.push(nsd);
    assert.equal(await serialOn(at(SECONDARY, N)), 2024020101, 'NSD transferred the zone');
    const res = await exchangeUdp({ ...at(PRIMARY, P), key }, makeMessage({
      opcode: Opcode.UPDATE, question: [{ name: origin, type: RRType.SOA, class: RRClass.IN }],
      authority: [recordFromText(`notified.${ORIGIN}. 300 IN A 192.0.2.99`)],
    }));
    assert.equal(res.message.rcode, Rcode.NOERROR);
    assert.ok(await waitFor(async () => (await serialOn(at(SECONDARY, N))) === 2024020102, 50), `NSD took the NOTIFY and transferred the change: ${nsd.out().slice(-600)}`);
    t.diagnostic(nsd.out().split('\n').filter((l) => /notify/i.test(l)).slice(-3).join('\n'));
  } finally {
    for (const p of procs.reverse()) await p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RFC 2136 durability: kill -9 during a stream of updates loses no acknowledged update', { skip: requirePortcullis() }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-xfr-crash-'));
  const P = 16316;
  writeFileSync(join(dir, 'example.test.zone'), zoneText(1));
  const yaml = [
    `listen: ["${HOST}:${P}"]`,
    'keys:', `  xfr-key: { algorithm: hmac-sha256, secret: "${SECRET}" }`,
    'zones:', `  - name: ${ORIGIN}`, '    file: example.test.zone', '    allow-update: [xfr-key]', '',
  ].join('\n');
  const acked: ResourceRecord[] = [];
  let sent = 0;
  try {
    for (let round = 0; round < 4; round++) {
      const pc = await startPortcullisYaml(dir, yaml);
      // Every acknowledged update of earlier rounds is there after the restart.
      const { records } = { records: await axfrLike(P) };
      for (const rr of acked) assert.ok(records.has(recordToText(rr)), `round ${round}: acknowledged ${recordToText(rr)} survived kill -9`);
      const killAt = Date.now() + 300 + Math.floor(Math.random() * 1200);
      let killed = false;
      const killer = (async () => {
        while (Date.now() < killAt) await new Promise((r) => setTimeout(r, 5));
        killed = true;
        await pc.kill('SIGKILL');
      })();
      for (let i = 0; i < 300 && !killed; i++) {
        const rr = recordFromText(`u${round}-${i}.example.test. 60 IN A 192.0.2.${i % 250}`);
        sent++;
        try {
          const { message } = await exchangeUdp(remote(P), makeMessage({ opcode: Opcode.UPDATE, question: [{ name: origin, type: RRType.SOA, class: RRClass.IN }], authority: [rr] }), 1000);
          if (message.rcode === Rcode.NOERROR) acked.push(rr);
        } catch { /* killed mid-update: not acknowledged */ }
      }
      await killer;
    }
    t.diagnostic(`updates sent ${sent}, acknowledged ${acked.length}, 4 kill -9 rounds`);
    assert.ok(acked.length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  async function axfrLike(port: number): Promise<Set<string>> {
    // The zone has no allow-transfer: read every acknowledged name with a query instead.
    const have = new Set<string>();
    for (const rr of acked) {
      const { message } = await exchangeUdp(remote(port, false), makeMessage({ question: [{ name: rr.name, type: RRType.A, class: RRClass.IN }] }), 1000);
      for (const a of message.answer) have.add(recordToText(a));
    }
    return have;
  }
});
