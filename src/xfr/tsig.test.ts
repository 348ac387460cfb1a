import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage, makeMessage, Name, Rcode, RRType, RRClass, decodeMessage } from '../wire/index.js';
import { makeTsigKey, readTsig, signMessage, verifyMessage, badTimeOther } from './tsig.js';

const key = makeTsigKey('xfr-key', 'hmac-sha256', Buffer.from('0123456789abcdef0123456789abcdef').toString('base64'));
const keys = (n: Name) => (n.equals(key.name) ? key : undefined);
const query = () => encodeMessage(makeMessage({ id: 4321, question: [{ name: Name.parse('example.test.'), type: RRType.AXFR, class: RRClass.IN }] }));

test('sign then verify; the signed message still decodes', () => {
  const { wire, mac } = signMessage(query(), key, { now: 1_000_000 });
  assert.equal(mac.length, 32);
  const v = verifyMessage(wire, keys, { now: 1_000_100 });
  assert.ok(v && v.ok);
  const m = decodeMessage(wire);
  assert.equal(m.additional.length, 1);
  assert.equal(m.additional[0]!.type, RRType.TSIG);
  assert.equal(readTsig(wire)!.originalId, 4321);
});

test('tampering, unknown keys and clock skew give BADSIG, BADKEY and BADTIME', () => {
  const { wire } = signMessage(query(), key, { now: 1_000_000 });
  const tampered = wire.slice();
  tampered[13] ^= 0x20; // flip the case of the first qname letter: covered by the MAC
  const bad = verifyMessage(tampered, keys, { now: 1_000_000 });
  assert.ok(bad && !bad.ok && bad.error === Rcode.BADSIG && bad.rcode === Rcode.NOTAUTH);
  const other = makeTsigKey('other-key', 'hmac-sha256', key.secret.length ? Buffer.from(key.secret).toString('base64') : '');
  const unknown = verifyMessage(signMessage(query(), other, { now: 1_000_000 }).wire, keys, { now: 1_000_000 });
  assert.ok(unknown && !unknown.ok && unknown.error === Rcode.BADKEY);
  const late = verifyMessage(wire, keys, { now: 1_000_301 });
  assert.ok(late && !late.ok && late.error === Rcode.BADTIME);
  assert.equal(verifyMessage(query(), keys), undefined, 'unsigned');
  assert.equal(badTimeOther(0x0102_0304_0506).length, 6);
});

test('responses chain the request MAC, streams chain the prior MAC', () => {
  const req = signMessage(query(), key, { now: 5000 });
  const resp1 = encodeMessage(makeMessage({ id: 4321, qr: true, question: [{ name: Name.parse('example.test.'), type: RRType.AXFR, class: RRClass.IN }] }));
  const s1 = signMessage(resp1, key, { now: 5000, requestMac: req.mac });
  assert.ok(verifyMessage(s1.wire, keys, { now: 5000, requestMac: req.mac })?.ok);
  assert.ok(!verifyMessage(s1.wire, keys, { now: 5000 })?.ok, 'without the request MAC it does not verify');
  const s2 = signMessage(resp1, key, { now: 5001, priorMac: s1.mac });
  assert.ok(verifyMessage(s2.wire, keys, { now: 5001, priorMac: s1.mac })?.ok);
});

test('algorithms and key parsing', () => {
  for (const alg of ['hmac-sha1', 'hmac-sha224', 'hmac-sha384', 'hmac-sha512', 'hmac-md5.sig-alg.reg.int']) {
    const k = makeTsigKey('k', alg, 'c2VjcmV0');
    const { wire } = signMessage(query(), k, { now: 1 });
    assert.ok(verifyMessage(wire, () => k, { now: 1 })?.ok, alg);
  }
  assert.throws(() => makeTsigKey('k', 'hmac-sha3', 'c2VjcmV0'), /unknown TSIG algorithm/);
  assert.throws(() => makeTsigKey('k', 'hmac-sha256', 'not base64!'), /not base64/);
});
