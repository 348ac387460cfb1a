// `portcullis serve` with BIND's tools: dig -y signs queries that select a view by key (RFC 8945
// §5, dig verifies our signed answers), and dnstap-read -y reads the dnstap file serve wrote.
// Server on 127.0.0.74, ports 16294-16295.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startServe } from '../unit/server-harness.js';

const run = promisify(execFile);
const DIG = '/usr/bin/dig';
const DNSTAP_READ = '/usr/bin/dnstap-read';
const HOST = '127.0.0.74';

function zone(address: string): string {
  return `$TTL 300
@    IN SOA ns1.example.test. hostmaster.example.test. 1 7200 3600 1209600 300
     IN NS  ns1
ns1  IN A   192.0.2.53
www  IN A   ${address}
`;
}

function missing(t: { skip(msg: string): void }, bins: string[]): boolean {
  const gone = bins.filter((b) => !existsSync(b));
  if (!gone.length) return false;
  if (process.env.CI === 'true') assert.fail(`${gone.join(', ')} missing (bind9-dnsutils)`);
  t.skip(`${gone.join(', ')} not installed`);
  return true;
}

test('RFC 8945 §5 with dig -y: the key selects the view, dig verifies the signed answer; a wrong secret gets BADSIG; dnstap-read -y reads the log', async (t) => {
  if (missing(t, [DIG, DNSTAP_READ])) return;
  const dir = mkdtempSync(join(tmpdir(), 'pc-serve-tsig-'));
  const secret = Buffer.from('portcullis serve tsig interop key').toString('base64');
  const wrong = Buffer.from('not the secret the server knows!!').toString('base64');
  writeFileSync(join(dir, 'inside.zone'), zone('10.0.0.10'));
  writeFileSync(join(dir, 'outside.zone'), zone('192.0.2.10'));
  writeFileSync(join(dir, 'p.yaml'), `listen: ["${HOST}:16294"]
cookies: { enabled: false }
keys:
  view-key: { algorithm: hmac-sha256, secret: "${secret}" }
views:
  - { name: keyed, clients: [any], keys: [view-key], zones: [{ name: example.test, file: inside.zone }] }
  - { name: public, clients: [any], zones: [{ name: example.test, file: outside.zone }] }
dnstap: { file: tap.fstrm, identity: ns-interop }
`);
  const child = startServe(['serve', '--config', join(dir, 'p.yaml')]);
  const dig = (...args: string[]) => run(DIG, ['-p', '16294', `@${HOST}`, 'www.example.test', 'A', '+tries=1', '+time=3', ...args]).then((r) => r.stdout, (e: { stdout?: string }) => e.stdout ?? '');
  try {
    await child.ready;
    const keyed = await dig('-y', `hmac-sha256:view-key:${secret}`);
    assert.match(keyed, /www\.example\.test\.\s+300\s+IN\s+A\s+10\.0\.0\.10/, `the keyed view answers:\n${keyed}`);
    assert.match(keyed, /TSIG PSEUDOSECTION/, 'signed answer');
    assert.doesNotMatch(keyed, /verify failure|TSIG error|expected a TSIG/i, 'dig verified our signature');
    const plain = await dig();
    assert.match(plain, /IN\s+A\s+192\.0\.2\.10/, `unsigned: the public view:\n${plain}`);
    const bad = await dig('-y', `hmac-sha256:view-key:${wrong}`);
    assert.match(bad, /NOTAUTH|BADSIG|tsig/i, `wrong secret refused:\n${bad}`);
    assert.doesNotMatch(bad, /10\.0\.0\.10/, 'no data from the keyed view');
  } finally {
    child.proc.kill('SIGTERM');
    assert.equal((await child.exited).code, 0);
  }
  // The sink is closed on SIGTERM: the file ends with STOP and dnstap-read accepts it.
  const { stdout } = await run(DNSTAP_READ, ['-y', join(dir, 'tap.fstrm')]);
  const types = [...stdout.matchAll(/^\s*type: (\w+)$/gm)].map((m) => m[1]).filter((x) => x !== 'MESSAGE');
  console.log(`dnstap-read: ${types.length} messages: ${types.join(' ')}`);
  assert.deepEqual(types.filter((x) => x === 'CLIENT_QUERY').length, 3, stdout);
  assert.deepEqual(types.filter((x) => x === 'CLIENT_RESPONSE').length, 3);
  assert.match(stdout, /identity: ns-interop/);
  assert.match(stdout, /query_address: "?127\.0\.0\.1"?$/m, 'dig on 127.0.0.1');
  assert.match(stdout, new RegExp(`response_address: "?${HOST.replaceAll('.', '\\.')}"?$`, 'm'), 'our listener');
  assert.match(stdout, /response_port: 16294/);
  assert.match(stdout, /www\.example\.test\.\s+300\s+IN\s+A\s+10\.0\.0\.10/, 'the signed answer as sent');
  assert.match(stdout, /TSIG/, 'the TSIG record is in the logged bytes');
});
