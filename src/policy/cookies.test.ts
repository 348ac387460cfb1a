import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CookieJar } from './cookies.js';
import { siphash24 } from './siphash.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('siphash-2-4 reference vector (SipHash paper, Appendix A)', () => {
  const key = Uint8Array.from({ length: 16 }, (_, i) => i);
  const msg = Uint8Array.from({ length: 15 }, (_, i) => i);
  assert.equal(toHex(siphash24(key, msg)), 'e545be4961ca29a1');
  assert.equal(toHex(siphash24(key, new Uint8Array(0))), '310e0edd47db6f72');
});

test('RFC 9018 A.1: a new client learns a server cookie', () => {
  const jar = new CookieJar({ secret: hex('e5e973e5a6b2a43f48e7dc849e37bfcf'), now: () => 1559731985 });
  const r = jar.check(hex('2464c4abcf10c957'), '198.51.100.100');
  assert.equal(r.status, 'client-only');
  assert.equal(toHex(r.response), '2464c4abcf10c957010000005cf79f111f8130c3eee29480');
});

test('cookie validation: valid, reused, stale, forged, other client', () => {
  let now = 1_700_000_000;
  const jar = new CookieJar({ secret: hex('00112233445566778899aabbccddeeff'), now: () => now });
  const first = jar.check(hex('0102030405060708'), '192.0.2.7').response;
  now += 60;
  const again = jar.check(first, '192.0.2.7');
  assert.equal(again.status, 'valid');
  assert.equal(toHex(again.response), toHex(first), 'a young cookie is reused');
  assert.equal(jar.check(first, '192.0.2.8').status, 'invalid', 'bound to the client address');
  const forged = first.slice();
  forged[23] = forged[23]! ^ 1;
  assert.equal(jar.check(forged, '192.0.2.7').status, 'invalid');
  now += 3700;
  assert.equal(jar.check(first, '192.0.2.7').status, 'invalid', 'older than an hour');
});
