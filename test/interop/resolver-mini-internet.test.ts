// A miniature internet on 127.0.53.0/24: the root and two TLDs on NSD and Knot, second-level
// zones on NSD, with delegations, glueless NS, CNAME across zones, DNAME, NXDOMAIN, NODATA, a
// lame delegation, a dead server and an answer too large for UDP. Portcullis's resolver
// iterates it from loopback root hints (query-port 15753); Unbound resolves the same questions
// (Unbound cannot send to a port other than 53 while iterating, so it gets a stub-zone per
// zone with addr@15753); the answers must agree.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TrustAnchors } from '../../src/dnssec/trust-anchors.js';
import { Resolver } from '../../src/resolver/resolver.js';
import { rootHintsFromAddresses } from '../../src/resolver/root-hints.js';
import { ManualClock, type ResolveResult } from '../../src/resolver/types.js';
import { NetUpstream } from '../../src/resolver/upstream.js';
import { makeMessage, Name, Rcode, rdataText, RRType, typeFromString, type Message, type ResourceRecord } from '../../src/wire/index.js';

process.env.PORTCULLIS_TEST_LOOPBACK_ONLY = '1';

const PORT = 15753;
const ROOT = '127.0.53.1'; // NSD: .
const TLD = '127.0.53.2'; // Knot: test. and net.
const SLD = '127.0.53.3'; // NSD: example.test. example.net. glueless.test. half.test.
const DEAD = '127.0.53.9'; // nothing listens
const UNBOUND = '127.0.53.20';
const UNBOUND_PORT = 15754;

const SOA = (z: string) => `${z} 3600 IN SOA ns.${z === '.' ? 'root.' : z} host.${z === '.' ? '' : z} 1 3600 900 604800 300`;
const zones: Record<string, { server: 'nsd-root' | 'knot' | 'nsd-sld'; text: string[] }> = {
  '.': { server: 'nsd-root', text: [
    '. 86400 IN SOA a.root. host. 1 1800 900 604800 300', '. 86400 IN NS a.root.', `a.root. 86400 IN A ${ROOT}`,
    'test. 86400 IN NS ns.test.', `ns.test. 86400 IN A ${TLD}`, 'net. 86400 IN NS ns.net.', `ns.net. 86400 IN A ${TLD}`,
  ] },
  'test.': { server: 'knot', text: [
    SOA('test.'), 'test. 3600 IN NS ns.test.', `ns.test. 3600 IN A ${TLD}`,
    'example.test. 3600 IN NS ns.example.test.', `ns.example.test. 3600 IN A ${SLD}`,
    'glueless.test. 3600 IN NS ns.example.net.',
    'half.test. 3600 IN NS ns1.half.test.', 'half.test. 3600 IN NS ns2.half.test.', `ns1.half.test. 3600 IN A ${DEAD}`, `ns2.half.test. 3600 IN A ${SLD}`,
    'lame.test. 3600 IN NS ns.lame.test.', `ns.lame.test. 3600 IN A ${SLD}`,
  ] },
  'net.': { server: 'knot', text: [
    SOA('net.'), 'net. 3600 IN NS ns.net.', `ns.net. 3600 IN A ${TLD}`,
    'example.net. 3600 IN NS ns.example.net.', `ns.example.net. 3600 IN A ${SLD}`,
  ] },
  'example.test.': { server: 'nsd-sld', text: [
    SOA('example.test.'), 'example.test. 3600 IN NS ns.example.test.', `ns.example.test. 3600 IN A ${SLD}`,
    'www.example.test. 300 IN A 192.0.2.1', 'www.example.test. 300 IN A 192.0.2.2',
    'alias.example.test. 300 IN CNAME www.example.net.', 'chain.example.test. 300 IN CNAME alias.example.test.',
    'dangling.example.test. 300 IN CNAME nowhere.example.net.',
    'old.example.test. 300 IN DNAME example.net.', 'mx.example.test. 300 IN MX 10 www.example.test.',
    'sub.deep.example.test. 300 IN A 192.0.2.77',
    ...Array.from({ length: 30 }, (_, i) => `big.example.test. 300 IN TXT "record ${i} of a large answer that does not fit a 1232-byte UDP payload"`),
  ] },
  'example.net.': { server: 'nsd-sld', text: [
    SOA('example.net.'), 'example.net. 3600 IN NS ns.example.net.', `ns.example.net. 3600 IN A ${SLD}`,
    'www.example.net. 300 IN A 198.51.100.1', 'host.example.net. 300 IN AAAA 2001:db8::1',
  ] },
  'glueless.test.': { server: 'nsd-sld', text: [SOA('glueless.test.'), 'glueless.test. 3600 IN NS ns.example.net.', 'www.glueless.test. 300 IN A 203.0.113.5'] },
  'half.test.': { server: 'nsd-sld', text: [SOA('half.test.'), 'half.test. 3600 IN NS ns1.half.test.', 'half.test. 3600 IN NS ns2.half.test.', `ns1.half.test. 3600 IN A ${DEAD}`, `ns2.half.test. 3600 IN A ${SLD}`, 'www.half.test. 300 IN A 203.0.113.9'] },
};

const questions: Array<[string, string]> = [
  ['www.example.test.', 'A'], ['WwW.ExAmPlE.TeSt.', 'A'], ['www.example.test.', 'AAAA'], ['nx.example.test.', 'A'],
  ['alias.example.test.', 'A'], ['chain.example.test.', 'A'], ['dangling.example.test.', 'A'], ['a.old.example.test.', 'A'],
  ['www.old.example.test.', 'A'], ['mx.example.test.', 'MX'], ['deep.example.test.', 'A'], ['sub.deep.example.test.', 'A'],
  ['big.example.test.', 'TXT'], ['www.glueless.test.', 'A'], ['www.half.test.', 'A'], ['www.lame.test.', 'A'],
  ['host.example.net.', 'AAAA'], ['nothing.test.', 'A'], ['example.net.', 'NS'], ['example.test.', 'SOA'],
];

const procs: ChildProcess[] = [];
let dir = '';
let missing: string | undefined;

function need(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
}

async function ask(addr: string, port: number, name: string, type: number, rd: boolean, timeout = 1500): Promise<Message | undefined> {
  try {
    const q = makeMessage({ rd, question: [{ name: Name.parse(name), type, class: 1 }] });
    const up = new NetUpstream();
    const m = await up.query({ address: addr, port }, q, { tcp: false, timeout });
    return m.tc ? await up.query({ address: addr, port }, q, { tcp: true, timeout }) : m;
  } catch {
    return undefined;
  }
}

async function waitFor(addr: string, port: number, name: string, rd = false): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (await ask(addr, port, name, RRType.SOA, rd, 300)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${addr}:${port} did not answer for ${name}`);
}

function start(cmd: string, args: string[]): void {
  const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d) => (err += d));
  p.on('exit', (code) => {
    if (code && code !== 0) console.error(`${cmd} exited ${code}: ${err.slice(0, 500)}`);
  });
  procs.push(p);
}

function nsdConf(name: string, addr: string, zoneNames: string[]): string {
  const d = join(dir, name);
  spawnSync('mkdir', ['-p', d]);
  return [
    'server:', `  ip-address: ${addr}@${PORT}`, `  port: ${PORT}`, '  username: ""', `  zonesdir: "${dir}"`, `  pidfile: "${d}/nsd.pid"`,
    `  xfrdfile: "${d}/xfrd.state"`, `  zonelistfile: "${d}/zone.list"`, '  database: ""', '  chroot: ""', '  verbosity: 1', '  do-ip6: no',
    'remote-control:', '  control-enable: no',
    ...zoneNames.flatMap((z) => ['zone:', `  name: "${z}"`, `  zonefile: "${fileOf(z)}"`]),
  ].join('\n') + '\n';
}

function fileOf(z: string): string {
  return join(dir, (z === '.' ? 'root' : z.slice(0, -1)) + '.zone');
}

before(async () => {
  for (const b of ['nsd', 'knotd', 'unbound']) {
    if (!need(b)) missing = b;
  }
  if (missing) return;
  dir = mkdtempSync(join(tmpdir(), 'portcullis-resolver-'));
  for (const [z, { text }] of Object.entries(zones)) writeFileSync(fileOf(z), text.join('\n') + '\n');
  const byServer = (s: string) => Object.entries(zones).filter(([, v]) => v.server === s).map(([z]) => z);
  writeFileSync(join(dir, 'nsd-root.conf'), nsdConf('nsd-root', ROOT, byServer('nsd-root')));
  writeFileSync(join(dir, 'nsd-sld.conf'), nsdConf('nsd-sld', SLD, byServer('nsd-sld')));
  spawnSync('mkdir', ['-p', join(dir, 'knot')]);
  writeFileSync(join(dir, 'knot.conf'), [
    'server:', `    listen: ${TLD}@${PORT}`, `    rundir: "${dir}/knot"`,
    'control:', `    listen: "${dir}/knot/knot.sock"`,
    'database:', `    storage: "${dir}/knot"`,
    'log:', '  - target: stderr', '    any: warning',
    'zone:', ...byServer('knot').flatMap((z) => [`  - domain: "${z}"`, `    file: "${fileOf(z)}"`, '    zonefile-sync: -1', '    journal-content: none']),
  ].join('\n') + '\n');
  const stubs = Object.entries(zones).flatMap(([z, v]) => ['stub-zone:', `  name: "${z}"`, `  stub-addr: ${v.server === 'nsd-root' ? ROOT : v.server === 'knot' ? TLD : SLD}@${PORT}`]);
  // lame.test. is delegated to a server that does not serve it: Unbound must find that itself.
  stubs.push('stub-zone:', '  name: "lame.test."', `  stub-addr: ${SLD}@${PORT}`);
  stubs.push('stub-zone:', '  name: "half.test."', `  stub-addr: ${DEAD}@${PORT}`, `  stub-addr: ${SLD}@${PORT}`);
  writeFileSync(join(dir, 'unbound.conf'), [
    'server:', `  interface: ${UNBOUND}@${UNBOUND_PORT}`, `  port: ${UNBOUND_PORT}`, '  do-ip6: no', '  do-daemonize: no', '  username: ""',
    '  chroot: ""', `  directory: "${dir}"`, '  pidfile: ""', '  use-syslog: no', '  logfile: ""', '  verbosity: 0', '  do-not-query-localhost: no',
    '  access-control: 127.0.0.0/8 allow', '  qname-minimisation: yes', '  minimal-responses: yes', '  harden-referral-path: no',
    '  module-config: "iterator"', '  local-zone: "test." nodefault', '  num-threads: 1', '  outgoing-range: 64', '  so-reuseport: no',
    'remote-control:', '  control-enable: no',
    ...stubs,
  ].join('\n') + '\n');
  start('nsd', ['-d', '-c', join(dir, 'nsd-root.conf')]);
  start('nsd', ['-d', '-c', join(dir, 'nsd-sld.conf')]);
  start('knotd', ['-c', join(dir, 'knot.conf')]);
  start('unbound', ['-d', '-c', join(dir, 'unbound.conf')]);
  await waitFor(ROOT, PORT, '.');
  await waitFor(TLD, PORT, 'test.');
  await waitFor(SLD, PORT, 'example.test.');
  await waitFor(UNBOUND, UNBOUND_PORT, 'example.test.', true);
  // A server that failed to bind (another run of this test holding the ports) would leave us
  // talking to someone else's servers: refuse to go on.
  await new Promise((r) => setTimeout(r, 200));
  const dead = procs.filter((p) => p.exitCode !== null);
  if (dead.length > 0) throw new Error(`${dead.length} peer(s) exited at start (ports 127.0.53.x:${PORT} in use by another run?)`);
});

after(() => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function skipIfMissing(t: { skip: (m: string) => void }): boolean {
  if (!missing) return false;
  if (process.env.CI === 'true') assert.fail(`peer binary missing: ${missing}`);
  t.skip(`peer binary missing: ${missing}`);
  return true;
}

const norm = (rrs: ResourceRecord[], types?: number[]) =>
  rrs.filter((r) => !types || types.includes(r.type)).map((r) => `${r.name.key} ${r.type} ${rdataText(r).toLowerCase()}`).sort();

function portcullis(clock = new ManualClock()): Resolver {
  // These zones are unsigned: a test trust anchor for a zone outside them keeps every answer insecure.
  const anchors = TrustAnchors.parse('anchor.invalid. IN DS 1 13 2 0000000000000000000000000000000000000000000000000000000000000000');
  return new Resolver({ rootHints: rootHintsFromAddresses([ROOT]), trustAnchors: anchors, queryPort: PORT, clock, ipv6: false, selection: { initialTimeout: 400 } });
}

test('RFC 1034 5.3.3: Portcullis and Unbound agree on every question of the mini internet', async (t) => {
  if (skipIfMissing(t)) return;
  const r = portcullis();
  let compared = 0;
  const disagreements: string[] = [];
  for (const [name, typeText] of questions) {
    const type = typeFromString(typeText)!;
    const mine: ResolveResult = await r.resolve(name, type);
    // A stub resolver retries: Unbound may spend its first attempt on half.test's dead server
    // while the machine is busy, and answers from what it learned on the next one.
    let theirs: Message | undefined;
    for (let attempt = 0; attempt < 3 && !theirs; attempt++) theirs = await ask(UNBOUND, UNBOUND_PORT, name, type, true, 5000);
    assert.ok(theirs, `unbound answered ${name} ${typeText}`);
    compared++;
    const what = `${name} ${typeText}`;
    if (mine.rcode !== theirs.rcode) disagreements.push(`${what}: rcode ${mine.rcode} vs unbound ${theirs.rcode}`);
    else if (norm(mine.answer).join('|') !== norm(theirs.answer).join('|')) disagreements.push(`${what}: answer ${norm(mine.answer)} vs ${norm(theirs.answer)}`);
    else if (norm(mine.authority, [RRType.SOA]).join('|') !== norm(theirs.authority, [RRType.SOA]).join('|')) disagreements.push(`${what}: SOA in authority differs`);
  }
  t.diagnostic(`compared ${compared} questions, ${disagreements.length} disagreements; ${r.stats.servfail} SERVFAIL`);
  assert.deepEqual(disagreements, []);
});

test('the mini internet exercises what it should: TCP on TC, glueless, lame, dead server', async (t) => {
  if (skipIfMissing(t)) return;
  const r = portcullis();
  const big = await r.resolve('big.example.test.', RRType.TXT);
  assert.equal(big.answer.length, 30, 'all 30 TXT records arrived (over TCP after TC)');
  assert.equal((await r.resolve('www.glueless.test.', RRType.A)).answer.length, 1);
  const half = await r.resolve('www.half.test.', RRType.A);
  assert.equal(half.rcode, Rcode.NOERROR, 'the dead server of half.test was skipped');
  const lame = await r.resolve('www.lame.test.', RRType.A);
  assert.equal(lame.rcode, Rcode.SERVFAIL);
  assert.equal(lame.ede?.infoCode, 22);
  const dname = await r.resolve('www.old.example.test.', RRType.A);
  assert.deepEqual(dname.answer.map((x) => x.type), [RRType.DNAME, RRType.CNAME, RRType.A]);
});

test('cache against real servers: TTL decrement, negative caching, serve-stale with the servers stopped', async (t) => {
  if (skipIfMissing(t)) return;
  const clock = new ManualClock();
  const r = portcullis(clock);
  const first = await r.resolve('www.example.test.', RRType.A);
  assert.equal(first.answer[0]!.ttl, 300);
  const nx = await r.resolve('nx.example.test.', RRType.A);
  assert.equal(nx.rcode, Rcode.NXDOMAIN);
  clock.advance(60_000);
  assert.equal((await r.resolve('www.example.test.', RRType.A)).answer[0]!.ttl, 240);
  assert.equal((await r.resolve('nx.example.test.', RRType.A)).authority[0]!.ttl, 240);
  // Stop every authoritative server, let the answer expire: serve-stale answers with EDE 3.
  for (const p of procs.slice(0, 3)) p.kill('SIGTERM');
  await new Promise((res) => setTimeout(res, 300));
  clock.advance(3600_000);
  const stale = await r.resolve('www.example.test.', RRType.A);
  assert.equal(stale.rcode, Rcode.NOERROR);
  assert.equal(stale.ede?.infoCode, 3);
  assert.equal(stale.answer[0]!.ttl, 30);
  const fresh = portcullis();
  assert.equal((await fresh.resolve('www.example.test.', RRType.A)).rcode, Rcode.SERVFAIL, 'with nothing cached the servers are really gone');
});
