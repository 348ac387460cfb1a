// `portcullis serve` as a child process on loopback (ports 15340-15369): the ready line,
// answers from the example zone over UDP and TCP, EDNS and truncation, SIGHUP reload, SIGTERM,
// config errors, bind errors, privilege drop and workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync as readSync } from 'node:fs';
import { decodeEde, EdeCode, EdnsOptionCode, getOption, Rcode, RRClass, RRType, type Message } from '../../src/wire/index.js';
import { query, repoRoot, startServe, TcpClient, udpExchange, mainJs, type ServeChild } from './server-harness.js';
import { loadNativeUdp } from '../../src/transport/udp-native.js';

const exampleZone = join(repoRoot, 'examples/zones/example.test.zone');

function setup(port: number, extra = '', opts: { zone?: string } = {}): { dir: string; config: string; zone: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pc-serve-'));
  chmodSync(dir, 0o755);
  const zone = join(dir, 'example.test.zone');
  if (opts.zone) writeFileSync(zone, opts.zone);
  else copyFileSync(exampleZone, zone);
  const config = join(dir, 'portcullis.yaml');
  writeFileSync(config, `listen: ["127.0.0.1:${port}", "[::1]:${port}"]\nlog: { level: debug }\nzones:\n  - name: example.test\n    file: example.test.zone\n${extra}`);
  return { dir, config, zone };
}

async function stop(child: ServeChild): Promise<number | null> {
  if (child.proc.exitCode !== null) return child.proc.exitCode;
  child.proc.kill('SIGTERM');
  return (await child.exited).code;
}

function rrs(m: Message, section: 'answer' | 'authority' | 'additional'): string[] {
  return m[section].map((r) => `${r.name} ${r.type}`);
}

test('serve: ready line, then answers from the example zone over UDP and TCP, IPv4 and IPv6', async (t) => {
  const port = 15340;
  const { config, dir } = setup(port);
  const child = startServe(['serve', '--config', config]);
  try {
    const ready = await child.ready;
    assert.deepEqual(ready.listen, [`127.0.0.1:${port}/udp`, `[::1]:${port}/udp`, `127.0.0.1:${port}/tcp`, `[::1]:${port}/tcp`]);
    assert.equal(ready.zones, 1);

    const www = (await udpExchange(port, query('www.example.test.', 'A'))).msg;
    assert.equal(www.rcode, Rcode.NOERROR);
    assert.ok(www.aa);
    assert.deepEqual(rrs(www, 'answer'), ['www.example.test. 5', 'example.test. 1']);

    const v6 = (await udpExchange(port, query('mail.example.test.', 'A'), '::1')).msg;
    assert.equal(v6.answer[0]!.data.address, '192.0.2.25');

    const mx = (await udpExchange(port, query('example.test.', 'MX', { edns: {} }))).msg;
    assert.equal(mx.answer.length, 2);
    assert.ok(mx.additional.some((r) => r.name.toString() === 'mail.example.test.'), 'MX target address in additional');

    const wild = (await udpExchange(port, query('anything.apps.example.test.', 'A'))).msg;
    assert.equal(wild.answer[0]!.name.toString(), 'anything.apps.example.test.');
    assert.equal(wild.answer[0]!.data.address, '192.0.2.100');

    const ref = (await udpExchange(port, query('host.sub.example.test.', 'A'))).msg;
    assert.equal(ref.aa, false, 'referral: AA clear');
    assert.deepEqual(rrs(ref, 'authority').sort(), ['sub.example.test. 2', 'sub.example.test. 2']);
    assert.deepEqual(rrs(ref, 'additional').sort(), ['ns1.sub.example.test. 1', 'ns2.sub.example.test. 28']);

    const nx = (await udpExchange(port, query('nope.example.test.', 'A'))).msg;
    assert.equal(nx.rcode, Rcode.NXDOMAIN);
    assert.equal(nx.authority[0]!.type, RRType.SOA);

    const srv = (await udpExchange(port, query('_sip._udp.example.test.', 'SRV'))).msg;
    assert.equal(srv.answer[0]!.data.port, 5060);

    const outside = (await udpExchange(port, query('example.org.', 'A', { rd: true, edns: {} }))).msg;
    assert.equal(outside.rcode, Rcode.REFUSED);
    assert.equal(decodeEde(getOption(outside.edns, EdnsOptionCode.EDE)!).infoCode, EdeCode.PROHIBITED);

    const version = (await udpExchange(port, query('version.bind.', 'TXT', { cls: RRClass.CH }))).msg;
    assert.equal(version.rcode, Rcode.REFUSED, 'identity hidden by default');

    // TCP, both families, several queries on one connection.
    for (const host of ['127.0.0.1', '::1']) {
      const c = await TcpClient.open(port, host);
      c.send(query('api.example.test.', 'A', { id: 1 }));
      c.send(query('api.example.test.', 'AAAA', { id: 2 }));
      const got = new Map<number, Message>();
      for (let i = 0; i < 2; i++) {
        const m = await c.read();
        got.set(m.id, m);
      }
      assert.equal(got.get(1)!.answer.length, 2);
      assert.equal(got.get(2)!.answer[0]!.data.address, '2001:db8::80');
      c.close();
    }
    t.diagnostic('12 UDP and 4 TCP queries answered as the zone says');
  } finally {
    assert.equal(await stop(child), 0, 'SIGTERM: exit 0');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve: EDNS payload negotiation; a large answer truncates with TC over UDP and comes whole over TCP; FORMERR/NOTIMP/BADVERS', async () => {
  const port = 15341;
  const { config, dir } = setup(port, 'nsid: hex:6e7331\n');
  const child = startServe(['serve', '--config', config]);
  try {
    await child.ready;
    const noEdns = await udpExchange(port, query('big.example.test.', 'TXT'));
    assert.ok(noEdns.msg.tc && noEdns.size <= 512, `no EDNS: TC within 512 (${noEdns.size})`);
    assert.equal(noEdns.msg.edns, undefined);
    const e4096 = await udpExchange(port, query('big.example.test.', 'TXT', { edns: { udpSize: 4096 } }));
    assert.ok(e4096.msg.tc && e4096.size <= 1232, `EDNS 4096: capped by our 1232 (${e4096.size})`);
    assert.equal(e4096.msg.edns?.udpSize, 1232, 'our payload size advertised');
    const small = await udpExchange(port, query('www.example.test.', 'A', { edns: { udpSize: 4096, do: true, options: [{ code: EdnsOptionCode.NSID, data: new Uint8Array(0) }] } }));
    assert.equal(small.msg.tc, false);
    assert.equal(small.msg.edns?.do, true, 'DO copied');
    assert.equal(Buffer.from(getOption(small.msg.edns, EdnsOptionCode.NSID)!.data).toString(), 'ns1');
    const c = await TcpClient.open(port);
    c.send(query('big.example.test.', 'TXT'));
    const full = await c.read();
    c.close();
    assert.equal(full.tc, false);
    assert.equal(full.answer.length, 12, 'the whole RRset over TCP');

    const notimp = await udpExchange(port, query('example.test.', 'SOA', { opcode: 2 }));
    assert.equal(notimp.msg.rcode, Rcode.NOTIMP);
    const badvers = await udpExchange(port, query('example.test.', 'SOA', { edns: { version: 1 } }));
    assert.equal(badvers.msg.rcode, Rcode.BADVERS);
    assert.equal(badvers.msg.edns?.version, 0);
    const good = query('example.test.', 'SOA', { id: 4242 });
    const junk = new Uint8Array([...good.slice(0, 11), 1, ...good.slice(12), 0xff]);
    const formerr = await udpExchange(port, junk);
    assert.equal(formerr.msg.rcode, Rcode.FORMERR);
    assert.equal(formerr.msg.id, 4242);
  } finally {
    assert.equal(await stop(child), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve: SIGHUP reloads a changed zone, keeps the old one when the new file is broken, and skips a broken config', async () => {
  const port = 15342;
  const { config, zone, dir } = setup(port);
  const child = startServe(['serve', '--config', config]);
  try {
    await child.ready;
    const serial = async () => (await udpExchange(port, query('example.test.', 'SOA'))).msg.answer[0]!.data.serial as number;
    assert.equal(await serial(), 2024060101);
    const original = readFileSync(zone, 'utf8');
    writeFileSync(zone, original.replace('2024060101', '2024060102') + 'new   IN  A  192.0.2.222\n');
    child.proc.kill('SIGHUP');
    await child.waitFor((l) => l.includes('"msg":"reloaded"') && l.includes('"loaded":["example.test"]'));
    assert.equal(await serial(), 2024060102);
    assert.equal((await udpExchange(port, query('new.example.test.', 'A'))).msg.answer[0]!.data.address, '192.0.2.222');

    writeFileSync(zone, original.replace('2024060101', '2024060103') + 'broken IN  A  not-an-address\n');
    child.proc.kill('SIGHUP');
    await child.waitFor((l) => l.includes('keeping the version already served'));
    assert.equal(await serial(), 2024060102, 'still the previous version');
    assert.equal((await udpExchange(port, query('new.example.test.', 'A'))).msg.rcode, Rcode.NOERROR);

    const goodConfig = readFileSync(config, 'utf8');
    writeFileSync(config, goodConfig + 'bogus: 1\n');
    child.proc.kill('SIGHUP');
    await child.waitFor((l) => l.includes('unknown key \\"bogus\\"'));
    await child.waitFor((l) => l.includes('reload skipped'));
    assert.equal(await serial(), 2024060102);
    assert.equal(child.proc.exitCode, null, 'still running');
  } finally {
    assert.equal(await stop(child), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve: a zone with errors is not served and says why; the server still starts; SIGINT exits 0', async () => {
  const port = 15343;
  const { config, dir } = setup(port, '', { zone: '$ORIGIN example.test.\n@ 3600 IN NS ns1\nns1 3600 IN A 192.0.2.1\n' });
  const child = startServe(['serve', '--config', config]);
  try {
    await child.ready;
    const why = await child.waitFor((l) => l.includes('not served'));
    assert.match(why, /"zone":"example\.test"/);
    assert.ok(child.lines.some((l) => /SOA/.test(l) && /"level":50/.test(l)), 'the missing SOA is logged as an error');
    const r = (await udpExchange(port, query('ns1.example.test.', 'A'))).msg;
    assert.equal(r.rcode, Rcode.REFUSED);
  } finally {
    child.proc.kill('SIGINT');
    assert.equal((await child.exited).code, 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve: config errors exit 1 with FILE:LINE:COL; a busy port exits 2', async () => {
  const { config, dir } = setup(15344, 'tcp: { idle-timeout: -1 }\n');
  const bad = startServe(['serve', '--config', config]);
  assert.equal((await bad.exited).code, 1);
  assert.ok(bad.lines.some((l) => l.startsWith(`${config}:6:22:`) && l.includes('idle-timeout')), bad.lines.join('\n'));
  const ok = setup(15344);
  const first = startServe(['serve', '--config', ok.config]);
  await first.ready;
  const second = startServe(['serve', '--config', ok.config]);
  assert.equal((await second.exited).code, 2);
  assert.ok(second.lines.some((l) => l.includes('address already in use')), second.lines.join('\n'));
  assert.equal(await stop(first), 0);
  rmSync(dir, { recursive: true, force: true });
  rmSync(ok.dir, { recursive: true, force: true });
});

function unprivilegedPortStart(): number {
  try {
    return Number(readSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
  } catch {
    return 1024;
  }
}

test('serve: binding port 53 without privileges explains how to fix it, exit 2', async (t) => {
  if (unprivilegedPortStart() <= 53) return t.skip('this host lets everyone bind port 53 (net.ipv4.ip_unprivileged_port_start)');
  const isRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'pc-53-'));
  chmodSync(dir, 0o755);
  const config = join(dir, 'p.yaml');
  writeFileSync(config, 'listen: ["127.0.0.1:53"]\n');
  chmodSync(config, 0o644);
  // As root, run the child as nobody (setpriv drops every capability).
  const command = isRoot
    ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', process.execPath, mainJs]
    : undefined;
  const child = startServe(['serve', '--config', config], { command, cwd: dir });
  const { code } = await child.exited;
  const log = child.lines.join('\n');
  if (code === 0 || /EPERM.*setpriv|setpriv: /.test(log)) return t.skip(`cannot run unprivileged here: ${log.slice(0, 200)}`);
  assert.equal(code, 2, log);
  assert.match(log, /cannot bind 127\.0\.0\.1:53 \(udp\): permission denied/);
  assert.match(log, /setcap cap_net_bind_service=\+ep/);
  assert.match(log, /user:/);
  rmSync(dir, { recursive: true, force: true });
});

test('serve: started as root with user: nobody, privileges are dropped after binding', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root');
  const port = 15345;
  const { config, dir } = setup(port, 'user: nobody\n');
  const child = startServe(['serve', '--config', config]);
  try {
    await child.ready;
    await child.waitFor((l) => l.includes('dropped privileges to nobody'));
    const status = readFileSync(`/proc/${child.proc.pid}/status`, 'utf8');
    assert.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
    assert.match(status, /^Gid:\s+65534\s+65534\s+65534\s+65534$/m);
    assert.equal((await udpExchange(port, query('www.example.test.', 'A'))).msg.rcode, Rcode.NOERROR, 'still serving');
  } finally {
    assert.equal(await stop(child), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve: workers: 2 share the sockets; ready once all are up; SIGTERM stops them all', async (t) => {
  const port = 15346;
  const { config, dir } = setup(port, 'workers: 2\n');
  const child = startServe(['serve', '--config', config]);
  try {
    const ready = await child.ready;
    assert.equal(ready.workers, 2);
    // With the batched addon, each worker reads its own SO_REUSEPORT socket, opened by the primary.
    if (loadNativeUdp()) assert.match(String(ready.udp), /^batched/);
    // The workers' own log lines reach the shared stderr in no fixed order with the primary's
    // "ready" (it follows their IPC messages): wait for both.
    const workerReady = (): number => child.lines.filter((l) => l.includes('"msg":"worker ready"')).length;
    await child.waitFor(() => workerReady() >= 2);
    assert.equal(workerReady(), 2);
    const pids = new Set<number>();
    for (const l of child.lines) if (l.includes('"msg":"zone loaded"')) pids.add(JSON.parse(l).pid as number);
    assert.equal(pids.size, 2, 'two processes loaded the zone');
    let ok = 0;
    for (let i = 0; i < 50; i++) if ((await udpExchange(port, query('www.example.test.', 'A'))).msg.rcode === Rcode.NOERROR) ok++;
    for (let i = 0; i < 10; i++) {
      const c = await TcpClient.open(port);
      c.send(query('www.example.test.', 'A', { id: i + 1 }));
      if ((await c.read()).id === i + 1) ok++;
      c.close();
    }
    t.diagnostic(`${ok}/60 answered by 2 workers`);
    assert.equal(ok, 60);
  } finally {
    assert.equal(await stop(child), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});
