// Validator building blocks: trust-anchor files, negative trust anchors, NSEC3 proofs (RFC 5155
// Appendix B example zone hashes), the RFC 9276 iteration limit, keyset validation and the
// resolver config mapping.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateSigningKey } from '../../src/dnssec/crypto.js';
import { denialRecords, proveNodata, proveNxdomain, proveWildcardAnswer } from '../../src/dnssec/denial-verify.js';
import { makeDs } from '../../src/dnssec/ds.js';
import { base32hex, nsec3Hash } from '../../src/dnssec/nsec3.js';
import { dnskeyOf, signRrset } from '../../src/dnssec/sign.js';
import { NegativeTrustAnchors, TrustAnchorError, TrustAnchors } from '../../src/dnssec/trust-anchors.js';
import { Algorithm, type DsData } from '../../src/dnssec/types.js';
import { defaultValidationLimits, validateKeyset, ValidationBudget } from '../../src/dnssec/validate.js';
import { resolverOptionsFromConfig } from '../../src/resolver/config.js';
import { Name, RRClass, RRType, type ResourceRecord } from '../../src/wire/index.js';

test('built-in root anchors: KSK-2017 (20326) and KSK-2024 (38696) as SHA-256 DS', () => {
  const a = TrustAnchors.root().get(Name.root)!;
  assert.deepEqual(a.ds.map((d) => d.keyTag).sort(), [20326, 38696]);
  assert.ok(a.ds.every((d) => d.algorithm === 8 && d.digestType === 2 && d.digest.length === 32));
});

test('trust-anchor file: DS and DNSKEY lines, comments, closest anchor; errors name file and line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-ta-'));
  const f = join(dir, 'anchors');
  writeFileSync(f, '; test anchors\nexample. 3600 IN DS 4759 8 2 3384CAE149834F17054DD9150E8C33D3979C4092F5C1B8D35E17A3C36A83810F\n\n'
    + 'sub.example. IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n');
  const t = TrustAnchors.load(f);
  assert.equal(t.size, 2);
  assert.equal(t.closest(Name.parse('www.sub.example.'))!.zone.toString(), 'sub.example.');
  assert.equal(t.closest(Name.parse('www.example.'))!.ds[0]!.keyTag, 4759);
  assert.equal(t.closest(Name.parse('www.other.')), undefined);
  writeFileSync(f, 'example. IN DS 1 8 2 00\nexample. IN A 192.0.2.1\n');
  assert.throws(() => TrustAnchors.load(f), (e: unknown) => e instanceof TrustAnchorError && e.message.startsWith(`${f}:2:1:`));
  writeFileSync(f, 'example. IN DS not-a-number\n');
  assert.throws(() => TrustAnchors.load(f), /:1:1:/);
  assert.throws(() => TrustAnchors.parse('; nothing\n'), /no DS or DNSKEY/);
});

test('negative trust anchors cover names below them until they expire', () => {
  const n = new NegativeTrustAnchors();
  n.add(Name.parse('broken.example.'), 1000);
  assert.equal(n.covering(Name.parse('a.b.broken.example.'), 999)?.toString(), 'broken.example.');
  assert.equal(n.covering(Name.parse('example.'), 999), undefined);
  assert.equal(n.covering(Name.parse('a.broken.example.'), 1000), undefined);
  assert.equal(n.list(0).length, 0, 'expired anchors are dropped');
});

// RFC 5155 Appendix A zone "example", salt aabbccdd, 12 iterations.
const SALT = Uint8Array.from([0xaa, 0xbb, 0xcc, 0xdd]);
const zone = Name.parse('example.');
function nsec3(owner: string, iterations = 12, flags = 0): { hash: string; rr: (next: string, types: number[]) => ResourceRecord } {
  const hash = base32hex(nsec3Hash(Name.parse(owner), SALT, iterations));
  return {
    hash,
    rr: (next, types) => ({
      name: zone.prepend(hash), type: RRType.NSEC3, class: RRClass.IN, ttl: 300,
      data: { hashAlgorithm: 1, flags, iterations, salt: SALT, nextHashed: Uint8Array.from(Buffer.from(base32hexToHex(next), 'hex')), types },
    }),
  };
}
function base32hexToHex(s: string): string {
  const A = '0123456789abcdefghijklmnopqrstuv';
  let bits = 0, value = 0, out = '';
  for (const c of s) {
    value = (value << 5) | A.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out += ((value >>> (bits - 8)) & 0xff).toString(16).padStart(2, '0');
      bits -= 8;
    }
  }
  return out;
}

/** An NSEC3 record covering the hash of `name` (owner just below it, next just above). */
function coverFor(name: string, iterations = 12, flags = 0): ResourceRecord {
  const h = base32hex(nsec3Hash(Name.parse(name), SALT, iterations));
  const dec = (s: string) => s.replace(/.$/, (c) => '0123456789abcdefghijklmnopqrstuv'['0123456789abcdefghijklmnopqrstuv'.indexOf(c) - 1]!);
  const inc = (s: string) => s.replace(/.$/, (c) => '0123456789abcdefghijklmnopqrstuv'['0123456789abcdefghijklmnopqrstuv'.indexOf(c) + 1]!);
  const owner = dec(h), next = inc(h);
  return {
    name: zone.prepend(owner), type: RRType.NSEC3, class: RRClass.IN, ttl: 300,
    data: { hashAlgorithm: 1, flags, iterations, salt: SALT, nextHashed: Uint8Array.from(Buffer.from(base32hexToHex(next), 'hex')), types: [RRType.A] },
  };
}

test('NSEC3: RFC 5155 Appendix A hash of the apex, NXDOMAIN closest-encloser proof, NODATA, opt-out', () => {
  assert.equal(nsec3('example.').hash, '0p9mhaveqvm6t7vbl5lop2u3t2rp3tom');
  const budget = () => new ValidationBudget(defaultValidationLimits);
  // The apex NSEC3 spans only to the next possible hash, so it covers nothing else.
  const apex = nsec3('example.').rr('0p9mhaveqvm6t7vbl5lop2u3t2rp3ton', [RRType.SOA, RRType.NS, RRType.NSEC3PARAM]);
  // a.c.x.w.example: closest encloser example (matches), next closer w.example covered, *.example covered.
  const nx = denialRecords([apex, coverFor('w.example.'), coverFor('*.example.')]);
  assert.equal(proveNxdomain(nx, Name.parse('a.c.x.w.example.'), budget()).result, 'secure');
  assert.equal(proveNxdomain(denialRecords([apex, coverFor('w.example.')]), Name.parse('a.c.x.w.example.'), budget()).result, 'bogus', 'wildcard not denied');
  assert.equal(proveNxdomain(denialRecords([coverFor('w.example.'), coverFor('*.example.')]), Name.parse('a.c.x.w.example.'), budget()).result, 'bogus', 'no closest encloser');
  const optout = denialRecords([apex, coverFor('w.example.', 12, 1), coverFor('*.example.')]);
  assert.equal(proveNxdomain(optout, Name.parse('a.c.x.w.example.'), budget()).result, 'insecure');
  // NODATA: an NSEC3 matching the name without the type.
  const ns1 = nsec3('ns1.example.').rr('0p9mhaveqvm6t7vbl5lop2u3t2rp3tom', [RRType.A, RRType.RRSIG]);
  assert.equal(proveNodata(denialRecords([ns1]), Name.parse('ns1.example.'), RRType.MX, budget()).result, 'secure');
  assert.equal(proveNodata(denialRecords([ns1]), Name.parse('ns1.example.'), RRType.A, budget()).result, 'bogus');
  // DS under opt-out: insecure delegation.
  assert.equal(proveNodata(optout, Name.parse('w.example.'), RRType.DS, budget()).result, 'insecure');
  // Wildcard answer: next closer name covered.
  assert.equal(proveWildcardAnswer(denialRecords([coverFor('a.z.w.example.')]), Name.parse('a.z.w.example.'), Name.parse('z.w.example.'), budget()).result, 'secure');
  assert.equal(proveWildcardAnswer(denialRecords([coverFor('a.z.w.example.')]), Name.parse('a.z.w.example.'), Name.parse('w.example.'), budget()).result, 'bogus', 'next closer z.w.example not covered');
});

test('RFC 9276: NSEC3 iterations above the limit make the denial insecure with EDE 27; hashing is capped', () => {
  const recs = denialRecords([coverFor('w.example.', 151), coverFor('*.example.', 151)]);
  const p = proveNxdomain(recs, Name.parse('x.w.example.'), new ValidationBudget(defaultValidationLimits));
  assert.equal(p.result, 'insecure');
  assert.equal(p.result === 'insecure' ? p.ede?.infoCode : -1, 27);
  const tight = new ValidationBudget({ ...defaultValidationLimits, maxNsec3Hashes: 1 });
  const q = proveNxdomain(denialRecords([coverFor('w.example.'), coverFor('*.example.')]), Name.parse('a.b.c.d.w.example.'), tight);
  assert.equal(q.result, 'bogus');
  assert.ok(tight.hashes <= 2, `hashes computed: ${tight.hashes}`);
});

test('keyset validation: DS match, SHA-1 switch, unsupported digest → insecure, keys per tag capped', () => {
  const key = generateSigningKey(Algorithm.ECDSAP256SHA256);
  const dnskey = dnskeyOf(key, true);
  const owner = Name.parse('example.');
  const set: ResourceRecord[] = [{ name: owner, type: RRType.DNSKEY, class: RRClass.IN, ttl: 3600, data: dnskey }];
  const sig = signRrset(set, { signer: owner, key, dnskey, inception: 1000, expiration: 5000 }).data;
  const b = () => new ValidationBudget(defaultValidationLimits);
  const ds = makeDs(owner, dnskey, 2);
  assert.equal(validateKeyset(owner, set, [sig], [ds], [], 2000, b()).security, 'secure');
  const sha1: DsData = makeDs(owner, dnskey, 1);
  const off = validateKeyset(owner, set, [sig], [sha1], [], 2000, b());
  assert.equal(off.security, 'insecure', 'SHA-1 DS alone is unusable without the test switch');
  assert.equal(off.security === 'insecure' ? off.ede.infoCode : -1, 2);
  assert.equal(validateKeyset(owner, set, [sig], [sha1], [], 2000, new ValidationBudget({ ...defaultValidationLimits, allowSha1: true })).security, 'secure');
  const wrong = { ...ds, digest: new Uint8Array(32) };
  const bad = validateKeyset(owner, set, [sig], [wrong], [], 2000, b());
  assert.equal(bad.security, 'bogus');
  assert.equal(bad.security === 'bogus' ? bad.ede.infoCode : -1, 9);
  const expired = validateKeyset(owner, set, [sig], [ds], [], 6000, b());
  assert.equal(expired.security === 'bogus' ? expired.ede.infoCode : -1, 7);
  // 10 keys sharing the signature's tag: only maxKeysPerTag are tried.
  const budget = new ValidationBudget({ ...defaultValidationLimits, maxKeysPerTag: 2 });
  const forged = { ...sig, signature: new Uint8Array(64) };
  validateKeyset(owner, set, [forged, forged, forged], [ds], [], 2000, budget);
  assert.ok(budget.validations <= 3 * 2, `validations: ${budget.validations}`);
});

test('config: dnssec, trust-anchors file, negative anchors and limits map to options', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-cfg-'));
  writeFileSync(join(dir, 'ta.zone'), '. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n');
  const o = resolverOptionsFromConfig({
    dnssec: 'validate', 'trust-anchors': 'ta.zone', 'negative-trust-anchors': [{ name: 'broken.example', until: '2030-01-01T00:00:00Z' }, { name: 'x.example' }],
    limits: { 'max-keys-per-tag': 2, 'max-nsec3-iterations': 100, 'max-validations': 50, 'max-signatures': 4 }, cache: { 'bogus-ttl': 30 },
  }, dir);
  assert.equal(o.dnssec, 'validate');
  assert.equal(o.trustAnchors?.size, 1);
  assert.equal(o.negativeTrustAnchors?.[0]?.until, Date.UTC(2030, 0, 1));
  assert.deepEqual(o.validation, { maxKeysPerTag: 2, maxSigsPerRrset: 4, maxValidations: 50, maxNsec3Iterations: 100 });
  assert.equal(o.bogusTtl, 30);
  assert.throws(() => resolverOptionsFromConfig({ dnssec: 'maybe' as 'off' }), /validate or off/);
  assert.throws(() => resolverOptionsFromConfig({ 'negative-trust-anchors': [{ name: 'a', until: 'soon' }] }), /not a time/);
  assert.throws(() => resolverOptionsFromConfig({ 'trust-anchors': 'missing.zone' }, dir), /missing\.zone:1:1: cannot read/);
});
