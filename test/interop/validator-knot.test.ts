// Our validator on zones signed by another implementation: Knot DNS with automatic signing
// (`dnssec-signing: on`; ECDSA P-256, NSEC in k.test., NSEC3 in k3.test.) serving them itself on
// 127.0.54.20. Secure answers must get AD; broken set-ups SERVFAIL with the EDE naming the fault:
// kw.test. anchored with a DS for another key (EDE 9), bad.test. transferred from Knot and
// served with one record changed after signing (EDE 6). Unbound, with the same anchors and
// stub zones, must reach the same verdicts.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeDs } from '../../src/dnssec/ds.js';
import { TrustAnchors } from '../../src/dnssec/trust-anchors.js';
import type { DnskeyData } from '../../src/dnssec/types.js';
import { Resolver } from '../../src/resolver/resolver.js';
import { rootHintsFromAddresses } from '../../src/resolver/root-hints.js';
import { NetUpstream } from '../../src/resolver/upstream.js';
import { decodeEde, EdnsOptionCode, makeMessage, Name, Rcode, RRType, typeFromString, type Message } from '../../src/wire/index.js';
import { startServe, type ServeChild } from '../unit/server-harness.js';

process.env.PORTCULLIS_TEST_LOOPBACK_ONLY = '1';

const PORT = 16042;
const KNOT = '127.0.54.20';
const OURS = '127.0.54.21';
const UNBOUND = '127.0.54.22';
const UNBOUND_PORT = 16043;
const ZONES = ['k.test.', 'k3.test.', 'kw.test.', 'bad.test.'];

let dir = '';
let missing: string | undefined;
let anchorsText = '';
let knot: ChildProcess | undefined;
let unbound: ChildProcess | undefined;
let serve: ServeChild | undefined;

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

const zoneFile = (z: string) => [
  `$ORIGIN ${z}`, '$TTL 300', `@ SOA ns hostmaster 1 3600 900 604800 300`, '@ NS ns', `ns A ${KNOT}`, 'www A 192.0.2.1', 'mail MX 10 www',
  '*.wild TXT "wildcard"', 'alias CNAME www',
].join('\n') + '\n';

before(async () => {
  for (const b of ['knotd', 'kdig', 'unbound']) if (spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0) missing = b;
  if (missing) return;
  dir = mkdtempSync(join(tmpdir(), 'portcullis-knot-'));
  mkdirSync(join(dir, 'kasp'));
  for (const z of ZONES) writeFileSync(join(dir, `${z}zone`), zoneFile(z));
  writeFileSync(join(dir, 'knot.conf'), [
    'server:', `  listen: ${KNOT}@${PORT}`, `  rundir: "${dir}"`,
    'database:', `  storage: "${dir}"`, `  kasp-db: "${dir}/kasp"`,
    'log:', '  - target: stderr', '    any: warning',
    'acl:', '  - id: xfr', '    address: 127.0.0.0/8', '    action: transfer',
    'policy:', '  - id: nsec', '    algorithm: ecdsap256sha256', '  - id: nsec3', '    algorithm: ecdsap256sha256', '    nsec3: on',
    '    nsec3-iterations: 0', '    nsec3-salt-length: 0',
    'zone:',
    ...ZONES.flatMap((z) => [`  - domain: ${z}`, `    file: "${dir}/${z}zone"`, '    dnssec-signing: on', `    dnssec-policy: ${z === 'k3.test.' ? 'nsec3' : 'nsec'}`, '    acl: xfr', '    zonefile-sync: -1']),
  ].join('\n') + '\n');
  knot = spawn('knotd', ['-c', join(dir, 'knot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let knotErr = '';
  knot.stderr!.on('data', (d) => (knotErr += d));
  // Knot signs at load: wait for signed DNSKEY sets.
  const keys = new Map<string, DnskeyData>();
  for (let i = 0; i < 100 && keys.size < ZONES.length; i++) {
    for (const z of ZONES) {
      if (keys.has(z)) continue;
      const m = await ask(KNOT, PORT, z, RRType.DNSKEY, 300);
      const ksk = m?.answer.find((r) => r.type === RRType.DNSKEY && ((r.data as DnskeyData).flags & 1) === 1);
      if (ksk && m!.answer.some((r) => r.type === RRType.RRSIG)) keys.set(z, ksk.data as DnskeyData);
    }
    if (keys.size < ZONES.length) await new Promise((r) => setTimeout(r, 100));
  }
  if (keys.size < ZONES.length) throw new Error(`knotd did not serve signed zones: ${knotErr.slice(0, 500)}`);
  const dsLine = (owner: string, key: DnskeyData) => {
    const d = makeDs(Name.parse(owner), key);
    return `${owner} 3600 IN DS ${d.keyTag} ${d.algorithm} ${d.digestType} ${Buffer.from(d.digest).toString('hex').toUpperCase()}`;
  };
  // kw.test.'s anchor is k.test.'s key digest under kw.test.'s name: matches no key of kw.test.
  anchorsText = ZONES.map((z) => (z === 'kw.test.' ? dsLine(z, keys.get('k.test.')!) : dsLine(z, keys.get(z)!))).join('\n');

  // bad.test.: Knot's signed zone, transferred, one address changed after signing.
  const axfr = spawnSync('kdig', ['-p', String(PORT), `@${KNOT}`, 'bad.test.', 'AXFR', '+noall', '+answer'], { encoding: 'utf8' });
  if (axfr.status !== 0) throw new Error(`kdig AXFR: ${axfr.stderr}`);
  const lines = axfr.stdout.split('\n').filter((l) => l.trim());
  const soa = lines.findIndex((l) => /\sSOA\s/.test(l));
  const body = lines.filter((l, i) => i !== lines.length - 1 || !/\sSOA\s/.test(l) || i === soa);
  const tampered = body.map((l) => (/^www\.bad\.test\.\s+\d+\s+IN\s+A\s+192\.0\.2\.1$/.test(l) ? l.replace('192.0.2.1', '192.0.2.66') : l));
  assert.notDeepEqual(tampered, body, 'the www A record was found in the transfer');
  writeFileSync(join(dir, 'bad.signed'), tampered.join('\n') + '\n');
  writeFileSync(join(dir, 'ours.yaml'), [`listen: ["${OURS}:${PORT}"]`, 'zones:', '  - name: bad.test', '    file: bad.signed'].join('\n') + '\n');
  serve = startServe(['serve', '--config', join(dir, 'ours.yaml')]);
  await serve.ready;

  writeFileSync(join(dir, 'unbound.conf'), [
    'server:', `  interface: ${UNBOUND}@${UNBOUND_PORT}`, `  port: ${UNBOUND_PORT}`, '  do-ip6: no', '  do-daemonize: no', '  username: ""',
    '  chroot: ""', `  directory: "${dir}"`, '  pidfile: ""', '  use-syslog: no', '  logfile: ""', '  verbosity: 0', '  do-not-query-localhost: no',
    '  access-control: 127.0.0.0/8 allow', '  module-config: "validator iterator"', '  local-zone: "test." nodefault', '  num-threads: 1',
    '  outgoing-range: 64', '  so-reuseport: no', '  ede: yes', '  harden-referral-path: no', '  val-log-level: 0',
    ...anchorsText.split('\n').map((l) => `  trust-anchor: "${l.replace(/\s+/g, ' ')}"`),
    'remote-control:', '  control-enable: no',
    ...ZONES.flatMap((z) => ['stub-zone:', `  name: "${z}"`, `  stub-addr: ${z === 'bad.test.' ? OURS : KNOT}@${PORT}`]),
  ].join('\n') + '\n');
  unbound = spawn('unbound', ['-d', '-c', join(dir, 'unbound.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 50 && !(await ask(UNBOUND, UNBOUND_PORT, 'www.k.test.', RRType.A, 300)); i++) await new Promise((r) => setTimeout(r, 100));
});

after(async () => {
  for (const p of [knot, unbound, serve?.proc]) if (p && p.exitCode === null) p.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
});

function skipIfMissing(t: { skip: (m: string) => void }): boolean {
  if (!missing) return false;
  if (process.env.CI === 'true') assert.fail(`peer binary missing: ${missing}`);
  t.skip(`peer binary missing: ${missing}`);
  return true;
}

const cases: Array<{ q: string; type: string; rcode: number; secure: boolean; ede?: number }> = [
  { q: 'www.k.test.', type: 'A', rcode: Rcode.NOERROR, secure: true },
  { q: 'alias.k.test.', type: 'A', rcode: Rcode.NOERROR, secure: true },
  { q: 'x.wild.k.test.', type: 'TXT', rcode: Rcode.NOERROR, secure: true },
  { q: 'nothere.k.test.', type: 'A', rcode: Rcode.NXDOMAIN, secure: true },
  { q: 'www.k.test.', type: 'AAAA', rcode: Rcode.NOERROR, secure: true },
  { q: 'www.k3.test.', type: 'A', rcode: Rcode.NOERROR, secure: true },
  { q: 'nothere.k3.test.', type: 'A', rcode: Rcode.NXDOMAIN, secure: true },
  { q: 'mail.k3.test.', type: 'TXT', rcode: Rcode.NOERROR, secure: true },
  { q: 'y.wild.k3.test.', type: 'TXT', rcode: Rcode.NOERROR, secure: true },
  { q: 'www.kw.test.', type: 'A', rcode: Rcode.SERVFAIL, secure: false, ede: 9 },
  { q: 'www.bad.test.', type: 'A', rcode: Rcode.SERVFAIL, secure: false, ede: 6 },
  { q: 'mail.bad.test.', type: 'MX', rcode: Rcode.NOERROR, secure: true },
];

test('RFC 4035 §5: zones signed by Knot (NSEC, NSEC3) validate as Unbound validates them; broken ones SERVFAIL with the EDE', async (t) => {
  if (skipIfMissing(t)) return;
  const r = new Resolver({
    rootHints: rootHintsFromAddresses(['127.0.54.29']), trustAnchors: TrustAnchors.parse(anchorsText), queryPort: PORT, ipv6: false,
    selection: { initialTimeout: 400 },
    forward: ZONES.map((z) => ({ zone: z, to: [`${z === 'bad.test.' ? OURS : KNOT}@${PORT}`], kind: 'stub' as const })),
  });
  const problems: string[] = [];
  const edes: string[] = [];
  for (const c of cases) {
    const type = typeFromString(c.type)!;
    const mine = await r.resolve(c.q, type, 1, { do: true });
    const theirs = await ask(UNBOUND, UNBOUND_PORT, c.q, type, 5000);
    const what = `${c.q} ${c.type}`;
    if (!theirs) {
      problems.push(`${what}: no answer from unbound`);
      continue;
    }
    if (mine.rcode !== c.rcode) problems.push(`${what}: our rcode ${mine.rcode} (${mine.ede?.infoCode} ${mine.ede?.text})`);
    if (theirs.rcode !== c.rcode) problems.push(`${what}: unbound rcode ${theirs.rcode}`);
    if ((mine.ad === true) !== c.secure) problems.push(`${what}: our AD ${mine.ad} (${mine.ede?.text})`);
    if (theirs.ad !== c.secure) problems.push(`${what}: unbound AD ${theirs.ad}`);
    if (c.ede !== undefined) {
      if (mine.ede?.infoCode !== c.ede) problems.push(`${what}: our EDE ${mine.ede?.infoCode} (${mine.ede?.text}), want ${c.ede}`);
      const opt = theirs.edns?.options.find((o) => o.code === EdnsOptionCode.EDE);
      const e = opt ? decodeEde(opt) : undefined;
      if (e && e.infoCode !== c.ede) problems.push(`${what}: unbound EDE ${e.infoCode}, ours ${mine.ede?.infoCode}`);
      edes.push(`${what}: ours ${mine.ede?.infoCode} "${mine.ede?.text}", unbound ${e?.infoCode ?? '-'} "${e?.text ?? ''}"`);
    }
  }
  t.diagnostic(`${cases.length} questions; EDEs: ${edes.join('; ')}`);
  assert.deepEqual(problems, []);
});
