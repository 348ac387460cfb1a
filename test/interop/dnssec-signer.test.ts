// Zones signed by Portcullis, checked by the other implementations' verifiers: BIND's
// `dnssec-verify`, ldns' `ldns-verify-zone` and Knot (`kzonecheck`, or `knotc zone-check` with
// `dnssec-validation: on` where the Knot package has no kzonecheck), for NSEC and NSEC3,
// algorithms 8, 13 and 15, CSK and KSK/ZSK, on a zone with secure and insecure delegations,
// glue, wildcards, ENTs, CNAME and DNAME. A tampered zone must fail every verifier (the checks
// can fail). Key files cross over with BIND (dnssec-keygen, dnssec-dsfromkey, dnssec-signzone),
// and `delv` validates answers from a daemon serving our signed zone with our trust anchor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Name, recordFromText } from '../../src/wire/index.js';
import { generateZoneKey, loadKey, loadZoneKeys, saveKey, type ZoneKey } from '../../src/dnssec/keys.js';
import { DEFAULT_POLICY, dsRecords, signZone, type SigningPolicy } from '../../src/dnssec/signer.js';
import type { DsData } from '../../src/dnssec/types.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { printZone } from '../../src/zone/printer.js';
import { findBinary, requirePeer, startNsd } from './harness/peers.js';
import { ORIGIN, ZONE_TEXT } from '../unit/dnssec-fixture.js';

const isCI = process.env.CI === 'true';
const tmp = (): string => mkdtempSync(join(tmpdir(), 'portcullis-dnssec-interop-'));

function run(cmd: string, args: string[], cwd?: string): { code: number; out: string } {
  const r = spawnSync(findBinary(cmd) ?? cmd, args, { encoding: 'utf8', timeout: 60_000, cwd });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** Knot's verdict: kzonecheck when installed, else knotc zone-check with DNSSEC validation. */
function knotCheck(file: string, dir: string): { ok: boolean; out: string; tool: string } {
  if (findBinary('kzonecheck')) {
    const r = run('kzonecheck', ['-o', 'example.test', '-d', 'on', file]);
    return { ok: r.code === 0 && !/error|warning/i.test(r.out), out: r.out, tool: 'kzonecheck' };
  }
  const kdir = join(dir, 'knot');
  mkdirSync(kdir, { recursive: true });
  const conf = join(kdir, 'knot.conf');
  writeFileSync(conf, [
    'server:', `  rundir: "${kdir}"`, 'database:', `  storage: "${kdir}"`,
    'zone:', '  - domain: example.test', `    file: "${file}"`, '    semantic-checks: on', '    dnssec-validation: on', '',
  ].join('\n'));
  const r = run('knotc', ['-c', conf, 'zone-check', 'example.test']);
  // knotc reports broken signatures as warnings with exit 0: any warning or error is a failure.
  return { ok: r.code === 0 && !/error|warning/i.test(r.out), out: r.out, tool: 'knotc zone-check' };
}

const knotMissing = (): string | false => (findBinary('kzonecheck') || findBinary('knotc') ? false : isCI ? false : 'neither kzonecheck nor knotc installed');

interface Verdicts { bind: { ok: boolean; out: string }; ldns: { ok: boolean; out: string }; knot: { ok: boolean; out: string; tool: string } }

function verifyWithPeers(file: string, dir: string, csk: boolean): Verdicts {
  // -z: a CSK has the SEP bit and signs everything; without it dnssec-verify wants a separate ZSK.
  const bind = run('dnssec-verify', [...(csk ? ['-z'] : []), '-o', 'example.test', file]);
  const ldns = run('ldns-verify-zone', [file]);
  return {
    bind: { ok: bind.code === 0 && /Zone fully signed/.test(bind.out), out: bind.out },
    ldns: { ok: ldns.code === 0, out: ldns.out },
    knot: knotCheck(file, dir),
  };
}

const keyCache = new Map<string, ZoneKey>();
function key(alg: number, ksk: boolean): ZoneKey {
  const id = `${alg}/${ksk}`;
  let k = keyCache.get(id);
  if (!k) keyCache.set(id, (k = generateZoneKey(ORIGIN, alg, ksk, Math.floor(Date.now() / 1000) - 3600)));
  return k;
}

const layouts: Array<{ alg: number; split: boolean; denial: 'nsec' | 'nsec3'; optOut?: boolean }> = [];
for (const alg of [8, 13, 15]) for (const denial of ['nsec', 'nsec3'] as const) layouts.push({ alg, split: false, denial });
layouts.push({ alg: 13, split: true, denial: 'nsec3' }, { alg: 8, split: true, denial: 'nsec' }, { alg: 13, split: false, denial: 'nsec3', optOut: true });

const peersSkip = requirePeer('dnssec-verify', 'ldns-verify-zone') || knotMissing();

for (const l of layouts) {
  const label = `algorithm ${l.alg}, ${l.split ? 'KSK+ZSK' : 'CSK'}, ${l.denial}${l.optOut ? ' opt-out' : ''}`;
  test(`${label}: dnssec-verify, ldns-verify-zone and Knot accept the signed zone and reject it tampered`, { skip: peersSkip }, (t) => {
    const dir = tmp();
    try {
      const now = Math.floor(Date.now() / 1000);
      const keys = l.split ? [key(l.alg, true), key(l.alg, false)] : [key(l.alg, true)];
      const policy: SigningPolicy = { ...DEFAULT_POLICY, denial: l.denial, nsec3OptOut: l.optOut === true };
      const signed = signZone(ORIGIN, parseZoneText(ZONE_TEXT, { origin: ORIGIN }), policy, keys, now);
      const file = join(dir, 'example.test.signed');
      writeFileSync(file, printZone(signed, { origin: ORIGIN }));
      const v = verifyWithPeers(file, dir, !l.split);
      assert.ok(v.bind.ok, `dnssec-verify:\n${v.bind.out}`);
      assert.ok(v.ldns.ok, `ldns-verify-zone:\n${v.ldns.out}`);
      assert.ok(v.knot.ok, `${v.knot.tool}:\n${v.knot.out}`);
      // Tampered: one address changed after signing. Every verifier must notice.
      const bad = join(dir, 'tampered.signed');
      writeFileSync(bad, readFileSync(file, 'utf8').replace('192.0.2.3', '192.0.2.99'));
      const b = verifyWithPeers(bad, join(dir, 'bad'), !l.split);
      assert.ok(!b.bind.ok && !b.ldns.ok && !b.knot.ok, `tampered zone accepted: bind ${b.bind.ok} ldns ${b.ldns.ok} knot ${b.knot.ok}`);
      t.diagnostic(`${signed.length} records verified by 3 tools; tampered copy rejected by 3 (${v.knot.tool})`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('key files cross over with BIND: dnssec-keygen keys sign for us; our keys give dnssec-dsfromkey our DS and sign with dnssec-signzone -S', { skip: requirePeer('dnssec-keygen', 'dnssec-dsfromkey', 'dnssec-signzone', 'dnssec-verify') }, () => {
  const dir = tmp();
  try {
    // BIND's keys, our signer.
    for (const alg of ['ECDSAP256SHA256', 'ED25519', 'RSASHA256']) {
      const kg = run('dnssec-keygen', ['-q', '-K', dir, '-a', alg, ...(alg === 'RSASHA256' ? ['-b', '2048'] : []), '-f', 'KSK', '-n', 'ZONE', 'bind.test']);
      assert.equal(kg.code, 0, kg.out);
    }
    const zone = Name.parse('bind.test.');
    const bindKeys = loadZoneKeys(dir, zone);
    assert.equal(bindKeys.length, 3);
    const text = '$TTL 300\n@ SOA ns hm 1 2 3 4 300\n@ NS ns\nns A 192.0.2.1\n*.w TXT "x"\n';
    const signed = signZone(zone, parseZoneText(text, { origin: zone }), DEFAULT_POLICY, bindKeys, Math.floor(Date.now() / 1000));
    writeFileSync(join(dir, 'bind.signed'), printZone(signed, { origin: zone }));
    const v = run('dnssec-verify', ['-z', '-o', 'bind.test', join(dir, 'bind.signed')]);
    assert.ok(v.code === 0 && /Zone fully signed/.test(v.out), v.out);

    // Our key, BIND's tools.
    const ours = generateZoneKey(ORIGIN, 13, true, Math.floor(Date.now() / 1000) - 3600);
    saveKey(dir, ours, 3600);
    const ds = run('dnssec-dsfromkey', ['-2', join(dir, `${ours.base}.key`)]);
    assert.equal(ds.code, 0, ds.out);
    const theirs = recordFromText(ds.out.trim()).data as DsData;
    const mine = dsRecords([loadKey(dir, ours.base)], 3600, [2])[0]!.data as DsData;
    assert.deepEqual([theirs.keyTag, Buffer.from(theirs.digest).toString('hex')], [mine.keyTag, Buffer.from(mine.digest).toString('hex')]);
    writeFileSync(join(dir, 'example.test.zone'), ZONE_TEXT);
    // -S (smart signing): BIND picks the key from our files by their Publish/Activate metadata.
    const sz = run('dnssec-signzone', ['-q', '-S', '-z', '-K', dir, '-o', 'example.test', '-f', join(dir, 'by-bind.signed'), join(dir, 'example.test.zone')], dir);
    assert.equal(sz.code, 0, sz.out);
    const v2 = run('dnssec-verify', ['-z', '-o', 'example.test', join(dir, 'by-bind.signed')]);
    assert.ok(v2.code === 0 && /Zone fully signed/.test(v2.out), v2.out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('delv validates answers (positive, NXDOMAIN, NODATA, wildcard, insecure referral) from NSD serving our signed zone', { skip: requirePeer('delv', 'nsd') }, async (t) => {
  const dir = tmp();
  const address = '127.0.0.50';
  const port = 16001;
  for (const denial of ['nsec3', 'nsec'] as const) {
    const csk = key(13, true);
    const signed = signZone(ORIGIN, parseZoneText(ZONE_TEXT, { origin: ORIGIN }), { ...DEFAULT_POLICY, denial }, [csk], Math.floor(Date.now() / 1000));
    const server = await startNsd([{ name: 'example.test', text: printZone(signed, { origin: ORIGIN }) }], port, { address });
    try {
      const d = csk.dnskey;
      const anchors = join(dir, 'anchors.conf');
      writeFileSync(anchors, `trust-anchors { "example.test." static-key ${d.flags} ${d.protocol} ${d.algorithm} "${Buffer.from(d.publicKey).toString('base64')}"; };\n`);
      const ask = (name: string, type: string) => run('delv', ['-a', anchors, '+root=example.test', `@${address}`, '-p', String(port), name, type]);
      const cases: Array<[string, string, RegExp]> = [
        ['www.example.test', 'A', /; fully validated[\s\S]*192\.0\.2\.3/],
        ['example.test', 'DNSKEY', /; fully validated/],
        ['nope.example.test', 'A', /; negative response, fully validated/],
        ['www.example.test', 'MX', /; negative response, fully validated/],
        ['ent.example.test', 'A', /; negative response, fully validated/],
        ['foo.wild.example.test', 'TXT', /; fully validated[\s\S]*"wild"/],
        ['foo.wild.example.test', 'AAAA', /; negative response, fully validated/],
        ['secure.example.test', 'DS', /; fully validated/],
        ['insecure.example.test', 'DS', /; negative response, fully validated/],
      ];
      for (const [name, type, expect] of cases) {
        const r = ask(name, type);
        assert.match(r.out, expect, `${denial} ${name} ${type}:\n${r.out}`);
      }
      t.diagnostic(`${denial}: ${cases.length} answers validated by delv`);
    } finally {
      await server.stop();
    }
  }
  rmSync(dir, { recursive: true, force: true });
});
