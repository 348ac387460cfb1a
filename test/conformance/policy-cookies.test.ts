import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CookieJar } from '../../src/policy/cookies.js';
import { conformanceDir } from './dir.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

test('RFC 9018 Appendix A server-cookie vectors', () => {
  const data = JSON.parse(readFileSync(join(conformanceDir(), 'rfc-vectors/dnssec-and-cookie-vectors.json'), 'utf8'));
  const cases = data.rfc9018_server_cookies.cases as Array<Record<string, any>>;
  let passed = 0;
  for (const c of cases) {
    const secret = hex(c.new_secret ?? c.secret);
    const previousSecret = c.old_secret ? hex(c.old_secret) : undefined;
    const jar = new CookieJar({ secret, previousSecret, now: () => c.now });
    const r = jar.check(hex(c.query_cookie), c.client_ip);
    assert.equal(Buffer.from(r.response).toString('hex'), c.response_cookie, c.appendix);
    if (c.query_cookie_valid_with) {
      // A.4: the incoming cookie verifies only with the old secret.
      const old = new CookieJar({ secret: previousSecret!, now: () => c.query_cookie_timestamp });
      assert.equal(old.check(hex(c.query_cookie), c.client_ip).status, 'valid');
    }
    passed++;
  }
  assert.equal(passed, 4);
  console.log(`RFC 9018 vectors: ${passed}/${cases.length} passed`);
});
