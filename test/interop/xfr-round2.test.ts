// Transfers, round two, with real peers on 127.0.0.1, ports 16340-16359: Portcullis as secondary
// of Knot; catalog zones (RFC 9432) from our producer to a BIND consumer and from a Knot
// producer to our consumer; nsupdate on a signed zone whose BIND copy passes dnssec-verify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeMessage, Name, Rcode, RRClass, RRType, recordToText, type SoaData } from '../../src/wire/index.js';
import { makeTsigKey } from '../../src/xfr/tsig.js';
import { exchangeUdp, transferIn, type Remote } from '../../src/xfr/client.js';
import { findBinary, portcullisBinary, requirePeer, requirePortcullis } from './harness/peers.js';
import { daemon, type Daemon } from './harness/daemon.js';

const run = promisify(execFile);
const SECRET = Buffer.from('portcullis interop xfr secret 32').toString('base64');
const key = makeTsigKey('xfr-key', 'hmac-sha256', SECRET);
const HOST = '127.0.0.1';

export function zoneText(origin: string, serial: number, n = 50, timers = '2 1 600 60'): string {
  return [
    `$ORIGIN ${origin}.`, '$TTL 300',
    `@ IN SOA ns1 hostmaster ${serial} ${timers}`,
    '@ IN NS ns1', 'ns1 IN A 127.0.0.1',
    ...Array.from({ length: n }, (_, i) => `h${i} IN A 192.0.2.${i % 250}`),
    'txt IN TXT "hello world"', '',
  ].join('\n');
}

const remote = (port: number, withKey = true): Remote => ({ address: HOST, port, key: withKey ? key : undefined, text: `${HOST}:${port}` });

export async function serialAt(port: number, zone: string): Promise<number | undefined> {
  try {
    const { message } = await exchangeUdp(remote(port, false), makeMessage({ question: [{ name: Name.parse(zone + '.'), type: RRType.SOA, class: RRClass.IN }] }), 500);
    const soa = message.answer.find((r) => r.type === RRType.SOA);
    return message.rcode === Rcode.NOERROR && soa ? (soa.data as SoaData).serial : undefined;
  } catch {
    return undefined;
  }
}

export async function waitFor(cond: () => Promise<boolean>, tries = 150): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

async function axfrTexts(port: number, zone: string): Promise<string[]> {
  const o = await transferIn(remote(port), Name.parse(zone + '.'), RRType.AXFR, undefined, { timeoutMs: 60_000 });
  assert.equal(o.kind, 'axfr');
  return o.kind === 'axfr' ? [...new Set(o.records.map((r) => recordToText(r)))].sort() : [];
}

async function nsupdate(port: number, zone: string, commands: string[]): Promise<void> {
  const script = [`server ${HOST} ${port}`, `zone ${zone}`, ...commands, 'send', ''].join('\n');
  const child = spawn('nsupdate', ['-y', `hmac-sha256:xfr-key:${SECRET}`, '-t', '5']);
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  child.stdin.end(script);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  assert.equal(code, 0, `nsupdate failed: ${err}`);
}

export async function startPortcullis(dir: string, yaml: string): Promise<Daemon> {
  writeFileSync(join(dir, 'portcullis.yaml'), yaml);
  return daemon(process.execPath, [portcullisBinary()!, 'serve', '--config', join(dir, 'portcullis.yaml')], dir, (o) => o.includes('"msg":"ready"'), 'portcullis');
}

const keysYaml = ['keys:', `  xfr-key: { algorithm: hmac-sha256, secret: "${SECRET}" }`];
const bindKey = `key "xfr-key" { algorithm hmac-sha256; secret "${SECRET}"; };`;
function bindConf(dir: string, port: number, body: string, options = ''): string {
  return [
    bindKey,
    `options { directory "${dir}"; pid-file "${dir}/named.pid"; listen-on port ${port} { ${HOST}; }; listen-on-v6 { none; };`,
    `  recursion no; dnssec-validation no; session-keyfile none; notify explicit; ${options} };`,
    'controls { };', body, '',
  ].join('\n');
}
function knotDb(dir: string): string {
  const db = join(dir, 'knotdb');
  mkdirSync(db, { recursive: true });
  return db;
}

function knotConf(dir: string, port: number, zones: string[], extra: string[] = []): string {
  return [
    'server:', `  rundir: "${dir}"`, `  listen: ${HOST}@${port}`,
    'log:', '  - target: stderr', '    any: info',
    'key:', '  - id: xfr-key', '    algorithm: hmac-sha256', `    secret: ${SECRET}`,
    ...extra,
    // Knot keeps its journal here; without it DDNS fails ("not exists").
    'database:', `  storage: "${knotDb(dir)}"`,
    'zone:', ...zones, '',
  ].join('\n');
}

test('Portcullis as secondary of Knot: TSIG AXFR, NOTIFY + IXFR after nsupdate on Knot, copies equal', { skip: requirePeer('knotd', 'nsupdate') || requirePortcullis() }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-xfr-knot-'));
  const [K, P] = [16340, 16341];
  const Z = 'example.test';
  writeFileSync(join(dir, 'primary.db'), zoneText(Z, 11));
  writeFileSync(join(dir, 'knot.conf'), knotConf(dir, K, [
    `  - domain: ${Z}`, `    storage: "${dir}"`, '    file: "primary.db"', '    notify: secondary', '    acl: [xfr, upd]', '    zonefile-load: difference-no-serial', '    journal-content: all',
  ], [
    'remote:', '  - id: secondary', `    address: ${HOST}@${P}`, '    key: xfr-key',
    'acl:', '  - id: xfr', '    key: xfr-key', '    action: transfer', '  - id: upd', '    key: xfr-key', '    action: update',
  ]));
  const procs: Daemon[] = [];
  try {
    procs.push(await daemon(findBinary('knotd')!, ['-c', join(dir, 'knot.conf')], dir, async () => (await serialAt(K, Z)) !== undefined, 'knotd'));
    const pc = await startPortcullis(dir, [`listen: ["${HOST}:${P}"]`, ...keysYaml, 'zones:', `  - name: ${Z}`, '    file: secondary.zone', `    primaries: ["${HOST}:${K} key xfr-key"]`, '    allow-transfer: [xfr-key]', ''].join('\n'));
    procs.push(pc);
    assert.ok(await waitFor(async () => (await serialAt(P, Z)) === 11), `AXFR from Knot:\n${pc.out().slice(-2000)}`);
    assert.deepEqual(await axfrTexts(P, Z), await axfrTexts(K, Z));
    await nsupdate(K, Z, ['update add knot-added.example.test. 300 IN A 192.0.2.222', 'update delete h4.example.test. A']);
    assert.ok(await waitFor(async () => (await serialAt(P, Z)) === 12), `NOTIFY from Knot, then IXFR:\n${pc.out().slice(-2000)}`);
    assert.match(pc.out(), /IXFR in/, 'the change came as differences');
    const ours = await axfrTexts(P, Z);
    assert.deepEqual(ours, await axfrTexts(K, Z), 'copies equal after the update');
    assert.ok(ours.some((l) => l.startsWith('knot-added.')));
    t.diagnostic(`${ours.length} records equal after IXFR from Knot`);
  } finally {
    for (const p of procs.reverse()) await p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RFC 9432: our catalog producer to a BIND 9.18 consumer; a member added by reload appears at BIND', { skip: requirePeer('named') || requirePortcullis() }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-xfr-cat-bind-'));
  const [P, B] = [16342, 16343];
  writeFileSync(join(dir, 'a.zone'), zoneText('a.example', 5));
  writeFileSync(join(dir, 'b.zone'), zoneText('b.example', 6));
  const yaml = (withB: boolean) => [
    `listen: ["${HOST}:${P}"]`, ...keysYaml, 'zones:',
    '  - name: catalog.test', '    catalog: produce', '    allow-transfer: [xfr-key]', `    notify: ["${HOST}:${B} key xfr-key"]`,
    '  - name: a.example', '    file: a.zone', '    allow-transfer: [xfr-key]', '    catalog-zone: catalog.test',
    '  - name: b.example', '    file: b.zone', '    allow-transfer: [xfr-key]', ...(withB ? ['    catalog-zone: catalog.test'] : []), '',
  ].join('\n');
  const procs: Daemon[] = [];
  try {
    const pc = await startPortcullis(dir, yaml(false));
    procs.push(pc);
    writeFileSync(join(dir, 'named.conf'), bindConf(dir, B,
      `zone "catalog.test" { type secondary; primaries { ${HOST} port ${P} key xfr-key; }; file "catalog.db"; };`,
      `allow-new-zones yes; catalog-zones { zone "catalog.test" default-primaries { ${HOST} port ${P} key xfr-key; } in-memory yes; };`));
    const bind = await daemon(findBinary('named')!, ['-g', '-n', '1', '-c', join(dir, 'named.conf')], dir, async () => (await serialAt(B, 'catalog.test')) !== undefined, 'named');
    procs.push(bind);
    assert.ok(await waitFor(async () => (await serialAt(B, 'a.example')) === 5), `BIND added a.example from our catalog:\n${bind.out().slice(-2500)}`);
    assert.equal(await serialAt(B, 'b.example'), undefined, 'b.example not in the catalog yet');
    // Add b.example to the catalog: reload (SIGHUP), NOTIFY, BIND adds the zone.
    writeFileSync(join(dir, 'portcullis.yaml'), yaml(true));
    await pcReload(pc);
    assert.ok(await waitFor(async () => (await serialAt(B, 'b.example')) === 6), `BIND added b.example:\n${bind.out().slice(-2500)}\n${pc.out().slice(-1500)}`);
    // And removed again.
    writeFileSync(join(dir, 'portcullis.yaml'), yaml(false));
    await pcReload(pc);
    assert.ok(await waitFor(async () => (await serialAt(B, 'b.example')) === undefined), 'BIND removed b.example');
    t.diagnostic('BIND consumer followed add and remove');
  } finally {
    for (const p of procs.reverse()) await p.kill();
    rmSync(dir, { recursive: true, force: true });
  }

  async function pcReload(pc: Daemon): Promise<void> {
    const before = pc.out().length;
    process.kill(pc.pid!, 'SIGHUP');
    await waitFor(async () => /reload/i.test(pc.out().slice(before)), 50);
  }
});

// todo: our TSIG-signed SOA query for Knot's generated catalog gets an unsigned answer ("answer is not signed").
test('RFC 9432: a Knot 3.2 catalog producer to our consumer; members follow the catalog', { skip: requirePeer('knotd') || requirePortcullis() }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-xfr-cat-knot-'));
  const [K, P] = [16344, 16345];
  writeFileSync(join(dir, 'a.zone'), zoneText('a.example', 7));
  writeFileSync(join(dir, 'b.zone'), zoneText('b.example', 8));
  const member = (z: string, f: string) => [`  - domain: ${z}`, `    storage: "${dir}"`, `    file: "${f}"`, '    acl: [xfr]', '    catalog-role: member', '    catalog-zone: catalog.test'];
  writeFileSync(join(dir, 'knot.conf'), knotConf(dir, K, [
    '  - domain: catalog.test', '    catalog-role: generate', '    acl: [xfr]', '    notify: consumer',
    ...member('a.example', 'a.zone'), ...member('b.example', 'b.zone'),
  ], [
    'remote:', '  - id: consumer', `    address: ${HOST}@${P}`, '    key: xfr-key',
    'acl:', '  - id: xfr', '    key: xfr-key', '    action: transfer',
  ]));
  mkdirSync(join(dir, 'members'));
  const procs: Daemon[] = [];
  try {
    const knot = await daemon(findBinary('knotd')!, ['-c', join(dir, 'knot.conf')], dir, async () => (await serialAt(K, 'b.example')) !== undefined, 'knotd');
    procs.push(knot);
    const pc = await startPortcullis(dir, [`listen: ["${HOST}:${P}"]`, ...keysYaml, 'zones:',
      '  - name: catalog.test', '    catalog: consume', `    primaries: ["${HOST}:${K} key xfr-key"]`, '    file: catalog.zone', '    catalog-directory: members',
      // members inherit the catalog's transfer ACL, so the test can compare copies by AXFR
      '    allow-transfer: [xfr-key]', ''].join('\n'));
    procs.push(pc);
    assert.ok(await waitFor(async () => (await serialAt(P, 'a.example')) === 7 && (await serialAt(P, 'b.example')) === 8), `members from Knot's catalog:\n${pc.out().slice(-2500)}`);
    assert.deepEqual(await axfrTexts(P, 'a.example'), await axfrTexts(K, 'a.example'), 'member copy equals Knot\'s');
    t.diagnostic(pc.out().split('\n').filter((l) => l.includes('catalog member')).length + ' catalog member log lines');
  } finally {
    for (const p of procs.reverse()) await p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
