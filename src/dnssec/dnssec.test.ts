import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Name, recordFromText, RRType, type ResourceRecord } from '../wire/index.js';
import { keyTag } from './keytag.js';
import { makeDs, dsMatches } from './ds.js';
import { generateSigningKey } from './crypto.js';
import { dnskeyOf, signRrset } from './sign.js';
import { verifyRrsig } from './verify.js';
import { nsec3Hash, base32hex } from './nsec3.js';
import type { DnskeyData } from './types.js';

test('RFC 6605 §6.1: key tag and SHA-256 DS of the example P-256 key', () => {
  const rr = recordFromText('example.net. 3600 IN DNSKEY 257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==');
  const key = rr.data as DnskeyData;
  assert.equal(keyTag(key), 55648);
  const ds = makeDs(rr.name, key, 2);
  assert.equal(Buffer.from(ds.digest).toString('hex'), 'b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17');
  assert.ok(dsMatches(rr.name, ds, key));
  assert.ok(!dsMatches(Name.parse('other.example.net.'), ds, key));
});

test('RFC 5155 Appendix A: NSEC3 hashes of example names (salt aabbccdd, 12 iterations)', () => {
  const salt = Uint8Array.from([0xaa, 0xbb, 0xcc, 0xdd]);
  const expect: Record<string, string> = {
    'example.': '0p9mhaveqvm6t7vbl5lop2u3t2rp3tom',
    'a.example.': '35mthgpgcu1qg68fab165klnsnk3dpvl',
    'ai.example.': 'gjeqe526plbf1g8mklp59enfd789njgi',
    'ns1.example.': '2t7b4g4vsa5smi47k61mv5bv1a22bojr',
    '*.w.example.': 'r53bq7cc2uvmubfu5ocmm6pers9tk9en',
    'x.y.w.example.': '2vptu5timamqttgl4luu9kg21e0aor3s',
  };
  for (const [name, hash] of Object.entries(expect)) assert.equal(base32hex(nsec3Hash(Name.parse(name), salt, 12)), hash, name);
});

for (const alg of [8, 13, 14, 15, 16]) {
  test(`sign and verify with algorithm ${alg}; tampering and time windows fail`, () => {
    const key = generateSigningKey(alg, 1024);
    const zone = Name.parse('example.test.');
    const dnskey = dnskeyOf(key, true);
    const rrset: ResourceRecord[] = [
      recordFromText('WWW.example.test. 300 IN A 192.0.2.2'),
      recordFromText('www.example.test. 300 IN A 192.0.2.1'),
    ];
    const sig = signRrset(rrset, { signer: zone, key, dnskey, inception: 1000, expiration: 2000 });
    assert.equal(sig.data.labels, 3);
    assert.deepEqual(verifyRrsig([...rrset].reverse(), sig.data, zone, dnskey, 1500), { ok: true }, 'order and owner case do not matter');
    const other = [recordFromText('www.example.test. 300 IN A 192.0.2.3')];
    assert.deepEqual(verifyRrsig(other, sig.data, zone, dnskey, 1500), { ok: false, reason: 'bad-signature' });
    assert.deepEqual(verifyRrsig(rrset, sig.data, zone, dnskey, 2001), { ok: false, reason: 'expired' });
    assert.deepEqual(verifyRrsig(rrset, sig.data, zone, dnskey, 999), { ok: false, reason: 'not-yet-valid' });
    const wrongKey = dnskeyOf(generateSigningKey(alg, 1024), true);
    assert.equal(verifyRrsig(rrset, sig.data, zone, wrongKey, 1500).ok, false);
  });
}

test('wildcard expansion: a signature over *.example.test verifies for any name it expanded to', () => {
  const key = generateSigningKey(13);
  const zone = Name.parse('example.test.');
  const dnskey = dnskeyOf(key, false);
  const wild = [recordFromText('*.example.test. 300 IN TXT "wild"')];
  const sig = signRrset(wild, { signer: zone, key, dnskey, inception: 0, expiration: 0x7fffffff });
  assert.equal(sig.data.labels, 2);
  const expanded = [recordFromText('a.b.example.test. 300 IN TXT "wild"')];
  assert.deepEqual(verifyRrsig(expanded, sig.data, zone, dnskey, 100), { ok: true });
  assert.equal(RRType.TXT, sig.data.typeCovered);
});
