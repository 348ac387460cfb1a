// DNSSEC validation against zones signed by BIND's dnssec-signzone (NSEC and NSEC3) and served
// by NSD on 127.0.53.30: a signed root (our trust anchor is its DS), a signed TLD and leaf
// zones, some deliberately broken. Portcullis iterates them; Unbound, with the same trust
// anchor and a stub zone per zone (it cannot iterate to a port other than 53), validates the
// same questions. Secure answers must carry AD on both; broken ones SERVFAIL, ours with the EDE
// that names the fault.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TrustAnchors } from '../../src/dnssec/trust-anchors.js';
import { Resolver } from '../../src/resolver/resolver.js';
import { rootHintsFromAddresses } from '../../src/resolver/root-hints.js';
import { NetUpstream } from '../../src/resolver/upstream.js';
import { makeMessage, Name, Rcode, RRType, typeFromString, type Message } from '../../src/wire/index.js';

process.env.PORTCULLIS_TEST_LOOPBACK_ONLY = '1';

const PORT = 15760;
const AUTH = '127.0.53.30';
const UNBOUND = '127.0.53.31';
const UNBOUND_PORT = 15761;

const procs: ChildProcess[] = [];
let dir = '';
let missing: string | undefined;
let rootDs = '';

const SOA = (z: string) => `${z} 3600 IN SOA ns.${z === '.' ? 'root.' : z} host.${z === '.' ? 'root.' : z} 1 3600 900 604800 300`;
const leafRecords = (z: string) => [SOA(z), `${z} 3600 IN NS ns.${z}`, `ns.${z} 3600 IN A ${AUTH}`, `www.${z} 300 IN A 192.0.2.1`,
  `alias.${z} 300 IN CNAME www.${z}`, `*.wild.${z} 300 IN TXT "wildcard"`, `mail.${z} 300 IN MX 10 www.${z}`];

/** Leaf zones: how each is signed (or broken). */
const leaves: Record<string, { sign: 'nsec' | 'nsec3' | 'optout' | 'none'; fault?: 'expired' | 'wrong-ds' | 'no-nsec3' }> = {
  'good.test.': { sign: 'nsec' },
  'hashed.test.': { sign: 'nsec3' },
  'unsigned.test.': { sign: 'none' },
  'expired.test.': { sign: 'nsec', fault: 'expired' },
  'wrongds.test.': { sign: 'nsec', fault: 'wrong-ds' },
  'nonsec3.test.': { sign: 'nsec3', fault: 'no-nsec3' },
};

function need(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const file = (z: string) => join(dir, (z === '.' ? 'root' : z.slice(0, -1)) + '.zone');

/** dnssec-keygen a KSK and a ZSK (ECDSA P-256); returns the DS lines of the KSK. */
const stamp = (secs: number) => new Date(secs * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
const nowSecs = () => Math.floor(Date.now() / 1000);

function keygen(zone: string, past = false): string {
  // Keys for a zone signed in the past must have been active then.
  const timing = past ? ['-P', stamp(nowSecs() - 60 * 86400), '-A', stamp(nowSecs() - 60 * 86400)] : [];
  run('dnssec-keygen', ['-q', '-K', dir, '-a', 'ECDSAP256SHA256', '-n', 'ZONE', ...timing, zone]);
  const ksk = run('dnssec-keygen', ['-q', '-K', dir, '-a', 'ECDSAP256SHA256', '-n', 'ZONE', '-f', 'KSK', ...timing, zone]).trim();
  return run('dnssec-dsfromkey', ['-2', join(dir, ksk + '.key')]).trim();
}

function sign(zone: string, how: 'nsec' | 'nsec3' | 'optout', expired = false): void {
  // -O full: one record a line, so records can be dropped by line to break a zone.
  const args = ['-q', '-K', dir, '-S', '-O', 'full', '-o', zone, '-f', file(zone) + '.signed'];
  if (how !== 'nsec') args.push('-3', '-', '-H', '0', ...(how === 'optout' ? ['-A'] : []));
  // -P: no post-signing check (it would reject the expired signatures we want).
  if (expired) args.push('-P', '-s', stamp(nowSecs() - 30 * 86400), '-e', stamp(nowSecs() - 86400));
  run('dnssec-signzone', [...args, file(zone)]);
}

async function ask(addr: string, port: number, name: string, type: number, timeout = 3000): Promise<Message | undefined> {
  try {
    const q = makeMessage({ rd: true, question: [{ name: Name.parse(name), type, class: 1 }], edns: { udpSize: 1232, version: 0, do: true, z: 0, options: [] } });
    const up = new NetUpstream();
    const m = await up.query({ address: addr, port }, q, { tcp: false, timeout });
    return m.tc ? await up.query({ address: addr, port }, q, { tcp: true, timeout }) : m;
  } catch {
    return undefined;
  }
}

async function waitFor(addr: string, port: number, name: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (await ask(addr, port, name, RRType.SOA, 300)) return;
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

before(async () => {
  for (const b of ['nsd', 'unbound', 'dnssec-keygen', 'dnssec-signzone', 'dnssec-dsfromkey']) if (!need(b)) missing = b;
  if (missing) return;
  dir = mkdtempSync(join(tmpdir(), 'portcullis-validator-'));
  // Bottom up: leaves first (their DS goes into test.), then test. (its DS into the root).
  const tld = [SOA('test.'), 'test. 3600 IN NS ns.test.', `ns.test. 3600 IN A ${AUTH}`];
  let otherDs = '';
  for (const [z, how] of Object.entries(leaves)) {
    writeFileSync(file(z), leafRecords(z).join('\n') + '\n');
    tld.push(`${z} 3600 IN NS ns.${z}`, `ns.${z} 3600 IN A ${AUTH}`);
    if (how.sign === 'none') continue;
    const ds = keygen(z, how.fault === 'expired');
    if (!otherDs) otherDs = ds.split(/\s+/).slice(3).join(' ');
    sign(z, how.sign, how.fault === 'expired');
    // A DS for another zone's key: the chain breaks at this delegation.
    tld.push(how.fault === 'wrong-ds' ? `${z} 3600 IN DS ${otherDs}` : ds.replace(/^(\S+)\s+IN/, '$1 3600 IN'));
    if (how.fault === 'no-nsec3') {
      const signed = readFileSync(file(z) + '.signed', 'utf8').split('\n');
      writeFileSync(file(z) + '.signed', signed.filter((l) => !/\sNSEC3(PARAM)?\s/.test(l) && !/RRSIG\s+NSEC3(PARAM)?\s/.test(l)).join('\n'));
    }
  }
  writeFileSync(file('test.'), tld.join('\n') + '\n');
  const tldDs = keygen('test.');
  sign('test.', 'optout');
  writeFileSync(file('.'), [SOA('.'), '. 86400 IN NS ns.root.', `ns.root. 86400 IN A ${AUTH}`, 'test. 86400 IN NS ns.test.', `ns.test. 86400 IN A ${AUTH}`,
    tldDs.replace(/^(\S+)\s+IN/, '$1 86400 IN')].join('\n') + '\n');
  rootDs = keygen('.');
  sign('.', 'nsec');
  const zones = ['.', 'test.', ...Object.keys(leaves)];
  writeFileSync(join(dir, 'nsd.conf'), [
    'server:', `  ip-address: ${AUTH}@${PORT}`, `  port: ${PORT}`, '  username: ""', `  zonesdir: "${dir}"`, `  pidfile: "${dir}/nsd.pid"`,
    `  xfrdfile: "${dir}/xfrd.state"`, `  zonelistfile: "${dir}/zone.list"`, '  database: ""', '  chroot: ""', '  verbosity: 1', '  do-ip6: no',
    'remote-control:', '  control-enable: no',
    ...zones.flatMap((z) => ['zone:', `  name: "${z}"`, `  zonefile: "${leaves[z]?.sign === 'none' ? file(z) : file(z) + '.signed'}"`]),
  ].join('\n') + '\n');
  writeFileSync(join(dir, 'unbound.conf'), [
    'server:', `  interface: ${UNBOUND}@${UNBOUND_PORT}`, `  port: ${UNBOUND_PORT}`, '  do-ip6: no', '  do-daemonize: no', '  username: ""',
    '  chroot: ""', `  directory: "${dir}"`, '  pidfile: ""', '  use-syslog: no', '  logfile: ""', '  verbosity: 0', '  do-not-query-localhost: no',
    '  access-control: 127.0.0.0/8 allow', '  module-config: "validator iterator"', '  local-zone: "test." nodefault', '  num-threads: 1',
    '  outgoing-range: 64', '  so-reuseport: no', `  trust-anchor: "${rootDs.replace(/\s+/g, ' ')}"`, '  ede: yes', '  harden-referral-path: no',
    'remote-control:', '  control-enable: no',
    ...zones.flatMap((z) => ['stub-zone:', `  name: "${z}"`, `  stub-addr: ${AUTH}@${PORT}`]),
  ].join('\n') + '\n');
  start('nsd', ['-d', '-c', join(dir, 'nsd.conf')]);
  start('unbound', ['-d', '-c', join(dir, 'unbound.conf')]);
  await waitFor(AUTH, PORT, '.');
  await waitFor(UNBOUND, UNBOUND_PORT, 'good.test.');
  await new Promise((r) => setTimeout(r, 200));
  const dead = procs.filter((p) => p.exitCode !== null);
  if (dead.length > 0) throw new Error(`${dead.length} peer(s) exited at start (ports ${AUTH}:${PORT} in use by another run?)`);
});

after(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
});

function skipIfMissing(t: { skip: (m: string) => void }): boolean {
  if (!missing) return false;
  if (process.env.CI === 'true') assert.fail(`peer binary missing: ${missing}`);
  t.skip(`peer binary missing: ${missing}`);
  return true;
}

function portcullis(): Resolver {
  return new Resolver({
    rootHints: rootHintsFromAddresses([AUTH]), trustAnchors: TrustAnchors.parse(rootDs), queryPort: PORT, ipv6: false, selection: { initialTimeout: 400 },
  });
}

/** question → what both validators must say: secure (AD), insecure (no AD), or bogus (SERVFAIL, our EDE). */
const cases: Array<{ q: string; type: string; rcode: number; expect: 'secure' | 'insecure' | 'bogus'; ede?: number }> = [
  { q: 'www.good.test.', type: 'A', rcode: Rcode.NOERROR, expect: 'secure' },
  { q: 'alias.good.test.', type: 'A', rcode: Rcode.NOERROR, expect: 'secure' },
  { q: 'x.wild.good.test.', type: 'TXT', rcode: Rcode.NOERROR, expect: 'secure' },
  { q: 'nx.good.test.', type: 'A', rcode: Rcode.NXDOMAIN, expect: 'secure' },
  { q: 'www.good.test.', type: 'AAAA', rcode: Rcode.NOERROR, expect: 'secure' },
  { q: 'good.test.', type: 'DNSKEY', rcode: Rcode.NOERROR, expect: 'secure' },
  { q: 'www.hashed.test.', type: 'A', rcode: Rcode.NOERROR, expect: 'secure' },
  { q: 'nx.hashed.test.', type: 'A', rcode: Rcode.NXDOMAIN, expect: 'secure' },
  { q: 'mail.hashed.test.', type: 'TXT', rcode: Rcode.NOERROR, expect: 'secure' },
  { q: 'y.wild.hashed.test.', type: 'TXT', rcode: Rcode.NOERROR, expect: 'secure' },
  { q: 'www.unsigned.test.', type: 'A', rcode: Rcode.NOERROR, expect: 'insecure' },
  { q: 'nx.unsigned.test.', type: 'A', rcode: Rcode.NXDOMAIN, expect: 'insecure' },
  { q: 'nothere.test.', type: 'A', rcode: Rcode.NXDOMAIN, expect: 'insecure' }, // opt-out span in test.
  { q: 'www.expired.test.', type: 'A', rcode: Rcode.SERVFAIL, expect: 'bogus', ede: 7 },
  { q: 'www.wrongds.test.', type: 'A', rcode: Rcode.SERVFAIL, expect: 'bogus', ede: 9 },
  { q: 'nx.nonsec3.test.', type: 'A', rcode: Rcode.SERVFAIL, expect: 'bogus', ede: 12 },
];

test('RFC 4035 §5: BIND-signed zones (NSEC, NSEC3, opt-out) validate as Unbound validates them', async (t) => {
  if (skipIfMissing(t)) return;
  const r = portcullis();
  const problems: string[] = [];
  for (const c of cases) {
    const type = typeFromString(c.type)!;
    const mine = await r.resolve(c.q, type, 1, { do: true });
    const theirs = await ask(UNBOUND, UNBOUND_PORT, c.q, type, 5000);
    assert.ok(theirs, `unbound answered ${c.q} ${c.type}`);
    const what = `${c.q} ${c.type}`;
    if (mine.rcode !== c.rcode) problems.push(`${what}: our rcode ${mine.rcode}, want ${c.rcode} (${mine.ede?.infoCode} ${mine.ede?.text})`);
    if (theirs.rcode !== c.rcode) problems.push(`${what}: unbound rcode ${theirs.rcode}, want ${c.rcode}`);
    if ((mine.ad === true) !== (c.expect === 'secure')) problems.push(`${what}: our AD ${mine.ad}, want ${c.expect}`);
    if (theirs.ad !== (c.expect === 'secure')) problems.push(`${what}: unbound AD ${theirs.ad}, want ${c.expect}`);
    if (c.ede !== undefined && mine.ede?.infoCode !== c.ede) problems.push(`${what}: our EDE ${mine.ede?.infoCode} (${mine.ede?.text}), want ${c.ede}`);
  }
  t.diagnostic(`${cases.length} questions compared; validator stats ${JSON.stringify(r.validator?.stats)}`);
  assert.deepEqual(problems, []);
});

test('CD=1 hands over the bogus answer; dnssec off never sets AD', async (t) => {
  if (skipIfMissing(t)) return;
  const r = portcullis();
  const cd = await r.resolve('www.expired.test.', RRType.A, 1, { do: true, cd: true });
  assert.equal(cd.rcode, Rcode.NOERROR);
  assert.equal(cd.ad, false);
  const off = new Resolver({ rootHints: rootHintsFromAddresses([AUTH]), dnssec: 'off', queryPort: PORT, ipv6: false });
  const a = await off.resolve('www.good.test.', RRType.A, 1, { do: true });
  assert.equal(a.rcode, Rcode.NOERROR);
  assert.notEqual(a.ad, true);
});
