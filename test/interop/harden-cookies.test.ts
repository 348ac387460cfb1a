// DNS cookies (RFC 7873) with the clients people use, and RFC 9018 server cookies shared with
// BIND: with the same secret each server accepts the cookies the other hands out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { requirePeer, requirePortcullis, startBind, startPortcullis, type RunningServer } from './harness/index.js';
import { repoRoot, run } from './harden-lib.js';

const ADDRESS = '127.0.0.92';
const PORT = 16420;
const BIND_PORT = 16421;
const SECRET = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const zoneFile = (): string => join(repoRoot(), 'examples', 'zones', 'example.test.zone');

interface Dug {
  status: string;
  cookie: string | undefined;
  answers: number;
  out: string;
}

/** Runs dig or kdig with a cookie option and reads status, the returned COOKIE and the answer count. */
async function ask(tool: 'dig' | 'kdig', server: string, port: number, cookie: string, extra: string[] = []): Promise<Dug> {
  const common = tool === 'dig'
    ? ['-b', '127.0.0.1', `@${server}`, '-p', String(port), '+tries=1', '+time=2', '+nobadcookie', '+norecurse']
    : ['-b', '127.0.0.1', `@${server}`, '-p', String(port), '+retry=0', '+time=2', '+nobadcookie', '+norecurse'];
  const r = await run(tool, [...common, cookie, ...extra, 'www.example.test', 'A']);
  const out = r.stdout + r.stderr;
  const status = /status: ([A-Z]+)/.exec(out)?.[1] ?? `none (exit ${r.code})`;
  const c = /COOKIE: ([0-9a-fA-F]+)/.exec(out)?.[1]?.toLowerCase();
  const answers = Number(/ANSWER: (\d+)/.exec(out)?.[1] ?? '0');
  return { status, cookie: c, answers, out };
}

/** Flips the last hex digit of a cookie (the hash part of the server cookie). */
function tamper(hex: string): string {
  const last = hex.at(-1)!;
  return hex.slice(0, -1) + (last === '0' ? '1' : '0');
}

async function withPortcullis(port: number, extraYaml: string[], fn: (s: RunningServer) => Promise<void>): Promise<void> {
  const s = await startPortcullis({ address: ADDRESS, port, zones: [{ name: 'example.test', file: zoneFile() }], extraYaml });
  try {
    await fn(s);
  } finally {
    await s.stop();
  }
}

for (const tool of ['dig', 'kdig'] as const) {
  test(`RFC 7873 §5.2 with ${tool} +cookie: server cookie returned, reused when valid, replaced when bad, FORMERR when malformed`, {
    skip: requirePortcullis() || requirePeer(tool),
  }, async (t) => {
    await withPortcullis(tool === 'dig' ? PORT : PORT + 2, [], async () => {
      const port = tool === 'dig' ? PORT : PORT + 2;
      // A client cookie only: the reply carries it back with a 16-byte RFC 9018 server cookie.
      const first = await ask(tool, ADDRESS, port, '+cookie=0102030405060708');
      assert.equal(first.status, 'NOERROR', first.out);
      assert.ok(first.cookie, `${tool} shows a COOKIE in the reply\n${first.out}`);
      assert.equal(first.cookie.length, 48, 'client (8) + server (16) bytes');
      assert.equal(first.cookie.slice(0, 16), '0102030405060708', 'our client cookie echoed');
      assert.equal(first.cookie.slice(16, 18), '01', 'server cookie version 1 (RFC 9018)');
      // With a random client cookie (what the tool does by default).
      const plain = await ask(tool, ADDRESS, port, '+cookie');
      assert.equal(plain.status, 'NOERROR');
      assert.equal(plain.cookie?.length, 48, `${tool} +cookie gets a server cookie`);

      // The full cookie on the next query is valid: the same server cookie comes back and the answer is normal.
      const again = await ask(tool, ADDRESS, port, `+cookie=${first.cookie}`);
      assert.equal(again.status, 'NOERROR');
      assert.equal(again.answers, first.answers);
      assert.equal(again.cookie, first.cookie, 'a valid, fresh server cookie is reused (RFC 9018 §4.3)');

      // A bad server cookie: we do not require cookies, so the answer is normal and carries a
      // fresh server cookie (RFC 7873 §5.2.3), not BADCOOKIE. Wait a second so "fresh" differs.
      await new Promise((r) => setTimeout(r, 1100));
      const bad = await ask(tool, ADDRESS, port, `+cookie=${tamper(first.cookie)}`);
      assert.equal(bad.status, 'NOERROR', `a bad server cookie is answered normally\n${bad.out}`);
      assert.equal(bad.answers, first.answers);
      assert.equal(bad.cookie?.slice(0, 16), '0102030405060708');
      assert.notEqual(bad.cookie, tamper(first.cookie), 'the bad server cookie is replaced');
      assert.notEqual(bad.cookie, first.cookie, 'by a new one (new timestamp)');

      // Malformed lengths (9..15 bytes): FORMERR (RFC 7873 §5.2.2).
      const malformed = await ask(tool, ADDRESS, port, '+cookie=0102030405060708090a');
      if (/status:/.test(malformed.out)) assert.equal(malformed.status, 'FORMERR', malformed.out);
      else t.diagnostic(`${tool} would not send a 10-byte cookie: ${malformed.out.split('\n')[0]}`);
      t.diagnostic(`${tool}: cookie ${first.cookie} reused; bad one replaced by ${bad.cookie}; malformed → ${malformed.status}`);
    });
  });
}

test('RFC 9018: Portcullis and BIND with the same secret accept each other\'s server cookies', {
  skip: requirePortcullis() || requirePeer('named', 'dig'),
}, async (t) => {
  const bind = await startBind([{ name: 'example.test', file: zoneFile() }], BIND_PORT, {
    // require-server-cookie: a bad or missing server cookie gets BADCOOKIE, a valid one an answer.
    extraOptions: ['cookie-algorithm siphash24;', `cookie-secret "${SECRET}";`, 'require-server-cookie yes;', 'answer-cookie yes;'],
  });
  try {
    await withPortcullis(PORT + 4, [`cookies: { secret: "${SECRET}" }`], async () => {
      const ours = ADDRESS;
      const port = PORT + 4;
      // Ours → BIND.
      const fromUs = await ask('dig', ours, port, '+cookie=1122334455667788');
      assert.equal(fromUs.cookie?.length, 48, fromUs.out);
      const atBind = await ask('dig', '127.0.0.1', BIND_PORT, `+cookie=${fromUs.cookie}`);
      assert.equal(atBind.status, 'NOERROR', `BIND accepts our server cookie\n${atBind.out}`);
      assert.ok(atBind.answers > 0);
      // Control: a tampered cookie is refused by BIND with BADCOOKIE (the check above can fail).
      const tampered = await ask('dig', '127.0.0.1', BIND_PORT, `+cookie=${tamper(fromUs.cookie!)}`);
      assert.equal(tampered.status, 'BADCOOKIE', `BIND rejects a tampered cookie\n${tampered.out}`);

      // BIND → ours. After a second, a valid cookie is reused as is; an invalid one would be
      // replaced with a fresh one carrying the current timestamp.
      const fromBind = await ask('dig', '127.0.0.1', BIND_PORT, '+cookie=8877665544332211');
      assert.equal(fromBind.cookie?.length, 48, `BIND returns an RFC 9018 cookie\n${fromBind.out}`);
      assert.equal(fromBind.cookie!.slice(16, 18), '01', 'BIND cookie version 1');
      await new Promise((r) => setTimeout(r, 1100));
      const atUs = await ask('dig', ours, port, `+cookie=${fromBind.cookie}`);
      assert.equal(atUs.status, 'NOERROR');
      assert.equal(atUs.cookie, fromBind.cookie, 'we accept (and reuse) BIND\'s server cookie');
      const atUsBad = await ask('dig', ours, port, `+cookie=${tamper(fromBind.cookie!)}`);
      assert.notEqual(atUsBad.cookie, tamper(fromBind.cookie!), 'a tampered BIND cookie is not accepted');
      t.diagnostic(`ours ${fromUs.cookie} accepted by BIND; BIND's ${fromBind.cookie} accepted by us`);
    });
  } finally {
    await bind.stop();
  }
});
