// BIND-format key files: round trips for every algorithm we sign with, file modes, timing
// metadata, errors with file and line; the signer's config block; the `dnssec` CLI commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Name, RRType, recordFromText } from '../../src/wire/index.js';
import {
  bindTime, generateZoneKey, KeyFileError, keyFileText, loadKey, loadZoneKeys, parseBindTime, parseKeyFile, parsePrivateFile, privateFileText, saveKey,
} from '../../src/dnssec/keys.js';
import { dnssecZoneSchema, parseDuration, signerSettings } from '../../src/dnssec/signer-config.js';
import { ZoneSigner } from '../../src/dnssec/signer-service.js';
import { signData } from '../../src/dnssec/crypto.js';
import { verifySignature, importPublicKey } from '../../src/dnssec/index.js';
import { dsMatches } from '../../src/dnssec/ds.js';
import { dsCommand, keygenCommand, signCommand } from '../../src/cli/dnssec.js';
import type { DsData } from '../../src/dnssec/types.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { ORIGIN, ZONE_TEXT, verifyAll } from './dnssec-fixture.js';

const NOW = 1_750_000_000;
const tmp = (): string => mkdtempSync(join(tmpdir(), 'portcullis-dnssec-'));

function capture() {
  const o = { out: '', err: '' };
  return { o, io: { stdout: { write: (s: string) => (o.out += s) }, stderr: { write: (s: string) => (o.err += s) } } };
}

for (const alg of [8, 10, 13, 14, 15, 16]) {
  test(`algorithm ${alg}: key files round-trip and the loaded key signs for the same DNSKEY`, () => {
    const dir = tmp();
    try {
      const k = generateZoneKey(ORIGIN, alg, alg % 2 === 1, NOW, 1024);
      const { keyFile, privateFile } = saveKey(dir, k, 3600);
      assert.equal(statSync(privateFile).mode & 0o777, 0o600);
      assert.match(keyFile, new RegExp(`Kexample\\.test\\.\\+0${alg < 10 ? '0' : ''}${alg}\\+${String(k.tag).padStart(5, '0')}\\.key$`));
      const back = loadKey(dir, k.base);
      assert.equal(back.tag, k.tag);
      assert.equal(back.ksk, k.ksk);
      assert.deepEqual(back.timing, { created: NOW, publish: NOW, activate: NOW });
      assert.deepEqual([...back.key.publicKey], [...k.key.publicKey]);
      const data = new TextEncoder().encode('signed data');
      const pub = importPublicKey(alg, k.dnskey.publicKey)!;
      assert.ok(verifySignature(alg, pub, data, signData(back.key, data)));
      assert.match(readFileSync(privateFile, 'utf8'), /^Private-key-format: v1\.3\nAlgorithm: \d+ \(\w+\)\n/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a BIND-written ECDSA key pair (RFC 6605 §6.1 example) loads with its tag', () => {
  // The RFC's private key and DNSKEY, in the files dnssec-keygen would write.
  const pub = parseKeyFile('; This is a key-signing key, keyid 55648, for example.net.\n; Created: 20120101000000 (Sun Jan  1 00:00:00 2012)\nexample.net. 3600 IN DNSKEY 257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==\n');
  assert.equal(pub.timing.created, parseBindTime('20120101000000'));
  const priv = parsePrivateFile('Private-key-format: v1.2\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ=\n', pub.dnskey);
  assert.deepEqual([...priv.key.publicKey], [...pub.dnskey.publicKey]);
});

test('key file errors name the file and line', () => {
  const k = generateZoneKey(ORIGIN, 13, true, NOW);
  const other = generateZoneKey(ORIGIN, 13, true, NOW);
  assert.throws(() => parsePrivateFile(privateFileText(other), k.dnskey, 'K.private'), /K\.private:1: the private key does not belong/);
  assert.throws(() => parsePrivateFile('Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\n', k.dnskey, 'K.private'), /missing field "PrivateKey"/);
  assert.throws(() => parsePrivateFile('Private-key-format: v1.3\nAlgorithm: 5 (RSASHA1)\nPrivateKey: AA==\n', k.dnskey, 'K.private'), /K\.private:2: unsupported algorithm/);
  assert.throws(() => parsePrivateFile(privateFileText(k).replace(/Created: \d+/, 'Created: yesterday'), k.dnskey, 'K.private'), (e: unknown) => e instanceof KeyFileError && /Created is not/.test(e.message));
  assert.throws(() => parseKeyFile('; nothing\n', 'K.key'), /K\.key:1: no DNSKEY/);
  assert.throws(() => parseKeyFile('example.test. IN A 192.0.2.1\n', 'K.key'), /K\.key:1: expected an IN DNSKEY/);
  assert.match(keyFileText(k), /^; This is a key-signing key, keyid \d+, for example\.test\.\n/);
  assert.equal(bindTime(parseBindTime('20240229235959')!), '20240229235959');
});

test('loadZoneKeys finds only the zone\'s complete key pairs', () => {
  const dir = tmp();
  try {
    const a = generateZoneKey(ORIGIN, 13, true, NOW);
    const b = generateZoneKey(ORIGIN, 13, false, NOW);
    const c = generateZoneKey(Name.parse('other.test.'), 13, true, NOW);
    for (const k of [a, b, c]) saveKey(dir, k);
    rmSync(join(dir, `${b.base}.private`)); // a public-only key is someone else's
    writeFileSync(join(dir, 'README'), 'not a key');
    assert.deepEqual(loadZoneKeys(dir, ORIGIN).map((k) => k.tag), [a.tag]);
    assert.deepEqual(loadZoneKeys(join(dir, 'missing'), ORIGIN), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('config block: defaults, durations and the checks between them', () => {
  const c = dnssecZoneSchema.parse({ sign: true });
  assert.deepEqual([c.algorithm, c.keys, c.denial, c['nsec3-iterations'], c['nsec3-salt'], c.cds], [13, 'csk', 'nsec3', 0, '-', true]);
  const s = signerSettings(c, '/srv/zones/example.test.zone');
  assert.equal(s.keyDirectory, '/srv/zones');
  assert.equal(s.policy.signatureLifetime, 14 * 86400);
  assert.equal(signerSettings({ ...c, 'key-directory': 'keys' }, '/srv/zones/z', '/etc/portcullis').keyDirectory, '/etc/portcullis/keys');
  const custom = dnssecZoneSchema.parse({ sign: true, algorithm: 15, keys: 'ksk-zsk', denial: 'nsec', 'signature-lifetime': '30d', 'signature-refresh': '10d', 'nsec3-salt': 'abcd' });
  const cs = signerSettings(custom, 'z');
  assert.deepEqual([cs.algorithm, cs.split, cs.policy.denial, cs.policy.signatureLifetime, cs.policy.signatureRefresh, [...cs.policy.nsec3Salt]], [15, true, 'nsec', 30 * 86400, 10 * 86400, [0xab, 0xcd]]);
  assert.equal(parseDuration('2w'), 14 * 86400);
  assert.equal(parseDuration('1y'), undefined);
  assert.ok(!dnssecZoneSchema.safeParse({ sign: true, 'signature-lifetime': '2d' }).success, 'refresh + jitter must fit in the lifetime');
  assert.ok(!dnssecZoneSchema.safeParse({ sign: true, algorithm: 5 }).success);
  assert.ok(!dnssecZoneSchema.safeParse({ sign: true, 'nsec3-salt': 'xyz' }).success);
  assert.ok(!dnssecZoneSchema.safeParse({ sign: true, 'signature-lifetime': 'soon' }).success);
  assert.ok(!dnssecZoneSchema.safeParse({ sign: true, typo: 1 }).success);
});

test('ZoneSigner: generates KSK+ZSK once, signs, raises the serial on re-signing, applies updates', () => {
  const dir = tmp();
  try {
    const c = dnssecZoneSchema.parse({ sign: true, keys: 'ksk-zsk', denial: 'nsec' });
    const logs: string[] = [];
    const signer = new ZoneSigner(ORIGIN, signerSettings(c, join(dir, 'example.test.zone')), (m) => logs.push(m));
    const records = parseZoneText(ZONE_TEXT, { origin: ORIGIN });
    const first = signer.sign(records, NOW);
    assert.equal(logs.length, 2, logs.join('\n'));
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.private')).length, 2);
    assert.deepEqual(verifyAll(first.records, ORIGIN, NOW).failures, []);
    const serial = (rs: typeof first) => (rs.records.find((r) => r.type === RRType.SOA)!.data as { serial: number }).serial;
    // A second signer on the same folder reuses the keys.
    const again = new ZoneSigner(ORIGIN, signerSettings(c, join(dir, 'example.test.zone')), (m) => logs.push(m));
    again.loadKeys(NOW);
    assert.equal(logs.length, 2, 'no new keys');
    const refreshed = signer.refresh(signer.refreshAt! + 1);
    assert.equal(serial(refreshed), serial(first) + 1);
    assert.ok(refreshed.created > 0 && refreshed.reused > 0);
    const upd = signer.update({ added: [recordFromText('new.example.test. 300 IN A 192.0.2.9')], removed: [] }, signer.refreshAt! - 10);
    assert.ok(upd.records.some((r) => r.name.key === 'new.example.test.' && r.type === RRType.NSEC));
    assert.deepEqual(verifyAll(upd.records, ORIGIN, signer.refreshAt! - 10).failures, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: keygen writes a pair, sign prints a verifiable zone, ds matches the key; bad input exits 1', async () => {
  const dir = tmp();
  try {
    const zoneFile = join(dir, 'example.test.zone');
    writeFileSync(zoneFile, ZONE_TEXT);
    const kg = capture();
    assert.equal(keygenCommand(ORIGIN, { algorithm: 13, ksk: true, dir }, kg.io, NOW - 7200), 0);
    const base = kg.o.out.trim();
    assert.match(base, /^Kexample\.test\.\+013\+\d{5}$/);
    const sg = capture();
    assert.equal(await signCommand(ORIGIN, zoneFile, { algorithm: 13, nsec: true, now: NOW }, sg.io), 0, sg.o.err);
    const signed = parseZoneText(sg.o.out, { origin: ORIGIN });
    assert.deepEqual(verifyAll(signed, ORIGIN, NOW).failures, []);
    assert.ok(signed.some((r) => r.type === RRType.NSEC) && !signed.some((r) => r.type === RRType.NSEC3));
    const ds = capture();
    assert.equal(dsCommand(ORIGIN, { dir }, ds.io), 0);
    const lines = ds.o.out.trim().split('\n');
    assert.equal(lines.length, 2);
    const key = loadKey(dir, base);
    for (const l of lines) assert.ok(dsMatches(ORIGIN, recordFromText(l).data as DsData, key.dnskey), l);
    const bad = capture();
    writeFileSync(join(dir, 'bad.zone'), '@ IN SOA ns1 hm 1 2 3 4 5\n@ IN A 300.1.1.1\n');
    assert.equal(await signCommand(ORIGIN, join(dir, 'bad.zone'), { algorithm: 13 }, bad.io), 1);
    assert.match(bad.o.err, /bad\.zone:2:/);
    const none = capture();
    assert.equal(dsCommand(Name.parse('nokeys.test.'), { dir }, none.io), 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every yaml snippet in src/dnssec/README.md and docs/dnssec.md has a valid dnssec block', async () => {
  const { parse } = await import('yaml');
  // The repository root: the first folder above this compiled file with our package.json.
  let root = new URL('./', import.meta.url);
  for (let i = 0; i < 6 && !isRepoRoot(root); i++) root = new URL('../', root);
  let checked = 0;
  for (const f of ['src/dnssec/README.md', 'docs/dnssec.md']) {
    const text = readFileSync(new URL(f, root), 'utf8');
    for (const m of text.matchAll(/```yaml\n([\s\S]*?)```/g)) {
      const doc = parse(m[1]!) as { zones?: Array<{ dnssec?: unknown }> };
      for (const z of doc.zones ?? []) {
        const r = dnssecZoneSchema.safeParse(z.dnssec);
        assert.ok(r.success, `${f}: ${JSON.stringify(z.dnssec)}: ${r.success ? '' : r.error.message}`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 3, `${checked} dnssec blocks checked`);
});

function isRepoRoot(dir: URL): boolean {
  try {
    return (JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string }).name === 'portcullis';
  } catch {
    return false;
  }
}
