// RFC 4035 §5 chain of trust, end to end: a miniature internet signed by Portcullis — the root
// (NSEC), the TLD test. (NSEC3) and two leaves (n.test. NSEC, h.test. NSEC3), each served by
// its own `portcullis serve` with `dnssec: {sign: true}` on 127.0.54.1–4, the DS records put
// into each parent with `portcullis dnssec ds`. Unbound, with only the root's DS as its trust
// anchor, must answer with AD for positive and negative answers at every level; our own
// resolver must agree.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TrustAnchors } from '../../src/dnssec/trust-anchors.js';
import { Resolver } from '../../src/resolver/resolver.js';
import { rootHintsFromAddresses } from '../../src/resolver/root-hints.js';
import { NetUpstream } from '../../src/resolver/upstream.js';
import { makeMessage, Name, Rcode, RRType, typeFromString, type Message } from '../../src/wire/index.js';
import { mainJs, startServe, type ServeChild } from '../unit/server-harness.js';

process.env.PORTCULLIS_TEST_LOOPBACK_ONLY = '1';

const PORT = 16040;
const UNBOUND = '127.0.54.10';
const UNBOUND_PORT = 16041;
/** zone → address, denial, parent. */
const levels: Array<{ zone: string; addr: string; denial: 'nsec' | 'nsec3'; parent?: string }> = [
  { zone: '.', addr: '127.0.54.1', denial: 'nsec' },
  { zone: 'test.', addr: '127.0.54.2', denial: 'nsec3', parent: '.' },
  { zone: 'n.test.', addr: '127.0.54.3', denial: 'nsec', parent: 'test.' },
  { zone: 'h.test.', addr: '127.0.54.4', denial: 'nsec3', parent: 'test.' },
];

let dir = '';
let missing: string | undefined;
let rootDs = '';
const serves: ServeChild[] = [];
let unbound: ChildProcess | undefined;

const label = (z: string) => (z === '.' ? 'root' : z.slice(0, -1));
const nsName = (z: string) => `ns.${z === '.' ? 'root.' : z}`;

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [mainJs, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`portcullis ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
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

before(async () => {
  if (spawnSync('sh', ['-c', 'command -v unbound']).status !== 0) missing = 'unbound';
  if (missing) return;
  dir = mkdtempSync(join(tmpdir(), 'portcullis-mini-'));
  // Keys first (bottom up does not matter: DS only needs the key), then zone files with the
  // children's DS from `portcullis dnssec ds`.
  const ds = new Map<string, string>();
  for (const l of levels) {
    const kd = join(dir, `keys-${label(l.zone)}`);
    mkdirSync(kd);
    cli(['dnssec', 'keygen', l.zone, '--ksk', '--dir', kd]);
    ds.set(l.zone, cli(['dnssec', 'ds', l.zone, '--dir', kd, '--ttl', '3600']).trim());
  }
  for (const l of levels) {
    const z = l.zone;
    const lines = [
      `${z} 3600 IN SOA ${nsName(z)} hostmaster.${z === '.' ? '' : z} 1 3600 900 604800 300`, `${z} 3600 IN NS ${nsName(z)}`, `${nsName(z)} 3600 IN A ${l.addr}`,
      `www.${z === '.' ? '' : z} 300 IN A 192.0.2.1`, `*.wild.${z === '.' ? '' : z} 300 IN TXT "wildcard"`,
    ];
    for (const c of levels.filter((x) => x.parent === z)) {
      lines.push(`${c.zone} 3600 IN NS ${nsName(c.zone)}`, `${nsName(c.zone)} 3600 IN A ${c.addr}`, ...ds.get(c.zone)!.split('\n'));
    }
    if (z === 'test.') lines.push('unsigned.test. 3600 IN NS ns.unsigned.test.', 'ns.unsigned.test. 3600 IN A 127.0.54.5');
    writeFileSync(join(dir, `${label(z)}.zone`), lines.join('\n') + '\n');
    writeFileSync(join(dir, `${label(z)}.yaml`), [
      `listen: ["${l.addr}:${PORT}"]`, 'zones:', `  - name: "${z}"`, `    file: ${label(z)}.zone`,
      `    dnssec: { sign: true, denial: ${l.denial}, key-directory: keys-${label(l.zone)} }`,
    ].join('\n') + '\n');
  }
  rootDs = ds.get('.')!.split('\n').find((x) => /\sDS\s+\d+\s+13\s+2\s/.test(x))!;
  for (const l of levels) serves.push(startServe(['serve', '--config', join(dir, `${label(l.zone)}.yaml`)]));
  await Promise.all(serves.map((s) => s.ready));
  writeFileSync(join(dir, 'unbound.conf'), [
    'server:', `  interface: ${UNBOUND}@${UNBOUND_PORT}`, `  port: ${UNBOUND_PORT}`, '  do-ip6: no', '  do-daemonize: no', '  username: ""',
    '  chroot: ""', `  directory: "${dir}"`, '  pidfile: ""', '  use-syslog: no', '  logfile: ""', '  verbosity: 0', '  do-not-query-localhost: no',
    '  access-control: 127.0.0.0/8 allow', '  module-config: "validator iterator"', '  local-zone: "test." nodefault', '  num-threads: 1',
    '  outgoing-range: 64', '  so-reuseport: no', `  trust-anchor: "${rootDs.replace(/\s+/g, ' ')}"`, '  ede: yes', '  harden-referral-path: no',
    '  aggressive-nsec: no', 'remote-control:', '  control-enable: no',
    // Unbound cannot iterate to a port other than 53: a stub zone per level stands in for the glue.
    ...levels.flatMap((l) => ['stub-zone:', `  name: "${l.zone}"`, `  stub-addr: ${l.addr}@${PORT}`]),
  ].join('\n') + '\n');
  unbound = spawn('unbound', ['-d', '-c', join(dir, 'unbound.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 50 && !(await ask(UNBOUND, UNBOUND_PORT, '.', RRType.SOA, 300)); i++) await new Promise((r) => setTimeout(r, 100));
});

after(async () => {
  for (const s of serves) if (s.proc.exitCode === null) s.proc.kill('SIGTERM');
  if (unbound && unbound.exitCode === null) unbound.kill('SIGTERM');
  await Promise.all(serves.map((s) => s.exited));
  if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
});

function skipIfMissing(t: { skip: (m: string) => void }): boolean {
  if (!missing) return false;
  if (process.env.CI === 'true') assert.fail(`peer binary missing: ${missing}`);
  t.skip(`peer binary missing: ${missing}`);
  return true;
}

const cases: Array<{ q: string; type: string; rcode: number; secure: boolean; why: string }> = [
  { q: 'www.', type: 'A', rcode: Rcode.NOERROR, secure: true, why: 'root data' },
  { q: 'nothere.', type: 'A', rcode: Rcode.NXDOMAIN, secure: true, why: 'root NXDOMAIN (NSEC)' },
  { q: 'www.test.', type: 'A', rcode: Rcode.NOERROR, secure: true, why: 'TLD data' },
  { q: 'nothere.test.', type: 'A', rcode: Rcode.NXDOMAIN, secure: true, why: 'TLD NXDOMAIN (NSEC3)' },
  { q: 'www.test.', type: 'TXT', rcode: Rcode.NOERROR, secure: true, why: 'TLD NODATA (NSEC3)' },
  { q: 'www.n.test.', type: 'A', rcode: Rcode.NOERROR, secure: true, why: 'leaf data' },
  { q: 'nothere.n.test.', type: 'A', rcode: Rcode.NXDOMAIN, secure: true, why: 'leaf NXDOMAIN (NSEC)' },
  { q: 'www.n.test.', type: 'MX', rcode: Rcode.NOERROR, secure: true, why: 'leaf NODATA (NSEC)' },
  { q: 'x.wild.n.test.', type: 'TXT', rcode: Rcode.NOERROR, secure: true, why: 'leaf wildcard (NSEC)' },
  { q: 'www.h.test.', type: 'A', rcode: Rcode.NOERROR, secure: true, why: 'leaf data (NSEC3 zone)' },
  { q: 'nothere.h.test.', type: 'A', rcode: Rcode.NXDOMAIN, secure: true, why: 'leaf NXDOMAIN (NSEC3)' },
  { q: 'www.h.test.', type: 'MX', rcode: Rcode.NOERROR, secure: true, why: 'leaf NODATA (NSEC3)' },
  { q: 'x.wild.h.test.', type: 'TXT', rcode: Rcode.NOERROR, secure: true, why: 'leaf wildcard (NSEC3)' },
  { q: 'h.test.', type: 'DNSKEY', rcode: Rcode.NOERROR, secure: true, why: 'leaf keys' },
  { q: 'unsigned.test.', type: 'DS', rcode: Rcode.NOERROR, secure: true, why: 'DS absence proven (NSEC3, insecure delegation)' },
];

test('RFC 4035 §5: Unbound validates a root → TLD → leaf tree signed and served by Portcullis (AD on positive and negative answers, NSEC and NSEC3)', async (t) => {
  if (skipIfMissing(t)) return;
  const mine = new Resolver({ rootHints: rootHintsFromAddresses([levels[0]!.addr]), trustAnchors: TrustAnchors.parse(rootDs), queryPort: PORT, ipv6: false, selection: { initialTimeout: 400 } });
  const problems: string[] = [];
  for (const c of cases) {
    const type = typeFromString(c.type)!;
    const theirs = await ask(UNBOUND, UNBOUND_PORT, c.q, type, 5000);
    const ours = await mine.resolve(c.q, type, 1, { do: true });
    const what = `${c.q} ${c.type} (${c.why})`;
    if (!theirs) {
      problems.push(`${what}: no answer from unbound`);
      continue;
    }
    if (theirs.rcode !== c.rcode) problems.push(`${what}: unbound rcode ${theirs.rcode}, want ${c.rcode}`);
    if (theirs.ad !== c.secure) problems.push(`${what}: unbound AD ${theirs.ad}`);
    if (ours.rcode !== c.rcode) problems.push(`${what}: our rcode ${ours.rcode} (${ours.ede?.text})`);
    if ((ours.ad === true) !== c.secure) problems.push(`${what}: our AD ${ours.ad} (${ours.ede?.text})`);
  }
  t.diagnostic(`${cases.length} questions to Unbound and to our resolver; validator stats ${JSON.stringify(mine.validator?.stats)}`);
  assert.deepEqual(problems, []);
});

test('the tree is really signed by Portcullis: every server answers DNSKEY with RRSIG, and a wrong root anchor makes the chain bogus (EDE 9)', async (t) => {
  if (skipIfMissing(t)) return;
  for (const l of levels) {
    const m = await ask(l.addr, PORT, l.zone, RRType.DNSKEY);
    assert.ok(m && m.aa, `${l.zone} answered authoritatively`);
    assert.ok(m.answer.some((r) => r.type === RRType.RRSIG), `${l.zone} DNSKEY signed`);
  }
  // Our resolver with a DS for some other key: the whole tree is bogus (EDE 9).
  const other = cli(['dnssec', 'ds', 'n.test.', '--dir', join(dir, 'keys-n.test')]).split('\n')[0]!.replace(/^n\.test\./, '.');
  const wrong = new Resolver({ rootHints: rootHintsFromAddresses([levels[0]!.addr]), trustAnchors: TrustAnchors.parse(other), queryPort: PORT, ipv6: false, selection: { initialTimeout: 400 } });
  const r = await wrong.resolve('www.n.test.', RRType.A, 1, { do: true });
  assert.equal(r.rcode, Rcode.SERVFAIL);
  assert.equal(r.ede?.infoCode, 9);
});
