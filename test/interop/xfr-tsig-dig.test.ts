import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { decodeMessage, encodeMessage, makeMessage, Name, recordFromText } from '../../src/wire/index.js';
import { makeTsigKey, signMessage, verifyMessage } from '../../src/xfr/tsig.js';

const run = promisify(execFile);
const DIG = '/usr/bin/dig';

// RFC 8945 interop: BIND's dig signs a query, we verify it, sign the answer, and dig verifies ours.
test('RFC 8945 §5: TSIG with BIND dig, both directions, every HMAC', async (t) => {
  if (!existsSync(DIG)) {
    if (process.env.CI === 'true') assert.fail('dig (bind9-dnsutils) is missing');
    t.skip('dig not installed');
    return;
  }
  const secret = Buffer.from('portcullis tsig interop secret!!').toString('base64');
  for (const alg of ['hmac-sha1', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512']) {
    const key = makeTsigKey('interop-key', alg, secret);
    const sock = createSocket('udp4');
    let verified = false;
    sock.on('message', (raw, rinfo) => {
      const v = verifyMessage(raw, (n) => (n.equals(key.name) ? key : undefined));
      verified = !!v?.ok;
      const q = decodeMessage(raw);
      const resp = encodeMessage(makeMessage({
        id: q.id, qr: true, aa: true, question: q.question,
        answer: [recordFromText('example.test. 300 IN A 192.0.2.1')],
      }));
      const signed = signMessage(resp, key, { requestMac: v?.ok ? v.tsig.mac : undefined });
      sock.send(signed.wire, rinfo.port, rinfo.address);
    });
    await new Promise<void>((res) => sock.bind(15051, '127.0.0.1', res));
    try {
      const { stdout } = await run(DIG, ['-p', '15051', '@127.0.0.1', '-y', `${alg}:interop-key:${secret}`, 'example.test', 'A', '+tries=1', '+time=3', '+noedns']);
      assert.ok(verified, `${alg}: our verifier accepted dig's signature`);
      assert.match(stdout, /TSIG PSEUDOSECTION/, `${alg}: dig saw our TSIG`);
      assert.doesNotMatch(stdout, /(tsig verify failure|expected a TSIG|BADSIG|BADKEY)/i, `${alg}: dig verified our TSIG`);
      assert.match(stdout, /192\.0\.2\.1/);
    } finally {
      await new Promise<void>((res) => sock.close(() => res()));
    }
  }
});
