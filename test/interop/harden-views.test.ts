// Split horizon and recursion control seen from real clients: `dig -b 127.0.0.2` (inside) and
// `dig -b 127.0.0.3` (outside) get different answers for the same name, and recursion is
// answered for the inside client and REFUSED (EDE 18, Prohibited) to the other. Recursion only
// ever reaches NSD on loopback (stub zone, root hints and query port all point there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePeer, requirePortcullis, startNsd, startPortcullis } from './harness/index.js';
import { repoRoot, run } from './harden-lib.js';

const ADDRESS = '127.0.0.93';
const PORT = 16430;
const NSD_ADDRESS = '127.0.0.94';
const NSD_PORT = 16431;

const INSIDE_ZONE = `$ORIGIN example.test.
$TTL 300
@    SOA ns1 hostmaster 1 7200 3600 1209600 300
@    NS  ns1
ns1  A   10.0.0.53
www  A   10.0.0.80
intranet A 10.0.0.81
`;

const CORP_ZONE = `$ORIGIN corp.test.
$TTL 300
@    SOA ns hostmaster 1 7200 3600 1209600 300
@    NS  ns
ns   A   ${NSD_ADDRESS}
host A   10.9.9.9
`;

async function dig(source: string, args: string[]): Promise<{ status: string; answer: string[]; ede: string; out: string }> {
  const r = await run('dig', ['-b', source, `@${ADDRESS}`, '-p', String(PORT), '+tries=1', '+time=3', ...args]);
  const out = r.stdout + r.stderr;
  const status = /status: ([A-Z]+)/.exec(out)?.[1] ?? `none (exit ${r.code})`;
  const answer = (await run('dig', ['-b', source, `@${ADDRESS}`, '-p', String(PORT), '+tries=1', '+time=3', '+short', ...args])).stdout.trim().split('\n').filter(Boolean);
  const ede = /EDE: ([^\n]+)/.exec(out)?.[1] ?? '';
  return { status, answer, ede, out };
}

test('views: 127.0.0.2 and 127.0.0.3 get different answers for www.example.test; recursion for the inside client only', {
  skip: requirePortcullis() || requirePeer('dig', 'nsd'),
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-views-'));
  writeFileSync(join(dir, 'inside.zone'), INSIDE_ZONE);
  // Root hints that point at loopback: nothing here can ever leave the machine.
  writeFileSync(join(dir, 'root.hints'), `. 3600000 NS a.root.test.\na.root.test. 3600000 A ${NSD_ADDRESS}\n`);
  const nsd = await startNsd([{ name: 'corp.test', text: CORP_ZONE }], NSD_PORT, { address: NSD_ADDRESS });
  try {
    const server = await startPortcullis({
      address: ADDRESS, port: PORT,
      zones: [{ name: 'example.test', file: join(repoRoot(), 'examples', 'zones', 'example.test.zone') }],
      extraYaml: [
        'acl:',
        '  inside: ["127.0.0.2"]',
        'resolver:',
        '  allow: [inside]',
        `  root-hints: "${join(dir, 'root.hints')}"`,
        `  query-port: ${NSD_PORT}`,
        '  dnssec: "off"',
        '  qname-minimisation: false',
        `  stub: [{ zone: corp.test, to: ["${NSD_ADDRESS}@${NSD_PORT}"] }]`,
        'views:',
        '  - name: inside',
        '    clients: [inside]',
        `    zones: [{ name: example.test, file: "${join(dir, 'inside.zone')}" }]`,
        '  - name: outside',
        '    clients: [any]',
        '    zones: [example.test]',
      ],
    });
    try {
      const inside = await dig('127.0.0.2', ['+norecurse', 'www.example.test', 'A']);
      const outside = await dig('127.0.0.3', ['+norecurse', 'www.example.test', 'A']);
      assert.equal(inside.status, 'NOERROR', inside.out);
      assert.equal(outside.status, 'NOERROR', outside.out);
      assert.deepEqual(inside.answer, ['10.0.0.80'], 'inside view answer');
      assert.ok(outside.answer.includes('192.0.2.1'), `outside view answer (the public zone): ${outside.answer.join(' ')}`);
      assert.notDeepEqual(inside.answer, outside.answer, 'same name, different answers');
      // A name only the inside zone has.
      const intranetOut = await dig('127.0.0.3', ['+norecurse', 'intranet.example.test', 'A']);
      assert.equal(intranetOut.status, 'NXDOMAIN', 'the inside-only name does not exist outside');

      // Recursion: the inside client gets the answer from NSD, the outside one REFUSED + EDE 18.
      const recIn = await dig('127.0.0.2', ['+recurse', 'host.corp.test', 'A']);
      assert.equal(recIn.status, 'NOERROR', recIn.out);
      assert.deepEqual(recIn.answer, ['10.9.9.9']);
      assert.match(recIn.out, /flags:[^;]*\bra\b/, 'RA set for the client allowed to recurse');
      const recOut = await dig('127.0.0.3', ['+recurse', 'host.corp.test', 'A']);
      assert.equal(recOut.status, 'REFUSED', recOut.out);
      assert.deepEqual(recOut.answer, []);
      assert.match(recOut.ede, /^18\b/, `EDE 18 (Prohibited) on the refusal: ${recOut.ede}`);
      assert.doesNotMatch(recOut.out, /flags:[^;]*\bra\b/, 'no RA for a client that may not recurse');
      t.diagnostic(`inside www → ${inside.answer.join(',')}; outside www → ${outside.answer.join(',')}; ` +
        `recursion inside → ${recIn.status} ${recIn.answer.join(',')}; outside → ${recOut.status} (EDE ${recOut.ede})`);
    } finally {
      await server.stop();
    }
  } finally {
    await nsd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
