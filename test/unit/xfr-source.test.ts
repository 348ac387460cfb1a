// `notify-source` and `transfer-source`: the address our NOTIFY and our transfers leave from.
// A secondary takes NOTIFY only from its primaries' addresses, and a primary may allow transfers
// by address; on one host an unbound socket sends from 127.0.0.1, which neither accepts. Servers
// on 127.0.0.110-113, ports 16371-16374.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeMessage, Name, Opcode, Rcode, RRClass, RRType, recordFromText, type ResourceRecord } from '../../src/wire/index.js';
import { makeTsigKey } from '../../src/xfr/tsig.js';
import { exchangeUdp, type Remote } from '../../src/xfr/client.js';
import { loadConfig } from '../../src/server/config.js';
import { eventually, KEYS, loadZoneFile, SECRET, startNode, tempDir, zoneText } from './xfr-harness.js';

const ORIGIN = 'source.test';
const origin = Name.parse(ORIGIN + '.');
const key = makeTsigKey('xfr-key', 'hmac-sha256', SECRET);

function update(add: ResourceRecord) {
  return makeMessage({ opcode: Opcode.UPDATE, question: [{ name: origin, type: RRType.SOA, class: RRClass.IN }], authority: [add] });
}

/** The rcode the primary logged for its NOTIFY to `to`, once it has one. */
function notifyRcode(lines: string[], to: string): number | undefined {
  for (const l of lines) {
    if (!l.includes('NOTIFY answered') || !l.includes(to)) continue;
    const m = /"rcode":(\d+)/.exec(l);
    if (m) return Number(m[1]);
  }
  return undefined;
}

for (const withSource of [false, true]) {
  test(`NOTIFY ${withSource ? 'from notify-source is taken' : 'from the system\'s address is refused'} by a secondary of that primary`, async (t) => {
    const dir = tempDir(`notify-source-${withSource}`);
    const pfile = join(dir, 'primary.zone');
    const sfile = join(dir, 'secondary.zone');
    // Refresh one hour: the secondary only learns of the change early through the NOTIFY.
    const fz = loadZoneFile(ORIGIN, pfile, zoneText(ORIGIN, 1, [], '3600 600 86400 300'));
    const zone = { name: ORIGIN, file: pfile, 'allow-transfer': ['xfr-key'], 'allow-update': ['xfr-key'], notify: ['127.0.0.111:16372 key xfr-key'] };
    const pconf = { keys: KEYS, zones: [withSource ? { ...zone, 'notify-source': '127.0.0.110' } : zone] };
    const sconf = { keys: KEYS, zones: [{ name: ORIGIN, file: sfile, primaries: ['127.0.0.110:16371 key xfr-key'] }] };
    const primary = await startNode('127.0.0.110', 16371, pconf, [fz]);
    const secondary = await startNode('127.0.0.111', 16372, sconf, []);
    const serialOf = () => secondary.zones().get(origin, RRClass.IN)?.serial;
    try {
      assert.ok(await eventually(() => serialOf() === 1), 'the secondary got the zone');
      const remote: Remote = { address: '127.0.0.110', port: 16371, key, text: 'primary' };
      const res = await exchangeUdp(remote, update(recordFromText(`new.${ORIGIN}. 60 IN TXT "after notify"`)));
      assert.equal(res.message.rcode, Rcode.NOERROR);
      assert.ok(await eventually(() => notifyRcode(primary.log.lines, '127.0.0.111:16372') !== undefined), 'the secondary answered the NOTIFY');
      const rcode = notifyRcode(primary.log.lines, '127.0.0.111:16372');
      t.diagnostic(`NOTIFY answered with rcode ${rcode}`);
      if (withSource) {
        assert.equal(rcode, Rcode.NOERROR);
        assert.ok(await eventually(() => serialOf() === 2), 'the NOTIFY made the secondary transfer the change');
      } else {
        assert.equal(rcode, Rcode.REFUSED, 'sent from 127.0.0.1, not from the primary\'s address');
        assert.equal(serialOf(), 1, 'no transfer before the refresh timer');
      }
    } finally {
      await secondary.stop();
      await primary.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const withSource of [false, true]) {
  test(`a transfer ${withSource ? 'from transfer-source is allowed' : 'from the system\'s address is refused'} by a primary that allows an address`, async () => {
    const dir = tempDir(`transfer-source-${withSource}`);
    const pfile = join(dir, 'primary.zone');
    const sfile = join(dir, 'secondary.zone');
    const fz = loadZoneFile(ORIGIN, pfile, zoneText(ORIGIN, 5, [], '1 1 86400 300'));
    const pconf = { zones: [{ name: ORIGIN, file: pfile, 'allow-transfer': ['127.0.0.113'] }] };
    const zone = { name: ORIGIN, file: sfile, primaries: ['127.0.0.112:16373'] };
    const sconf = { zones: [withSource ? { ...zone, 'transfer-source': '127.0.0.113' } : zone] };
    const primary = await startNode('127.0.0.112', 16373, pconf, [fz]);
    const secondary = await startNode('127.0.0.113', 16374, sconf, []);
    const serialOf = () => secondary.zones().get(origin, RRClass.IN)?.serial;
    try {
      if (withSource) {
        assert.ok(await eventually(() => serialOf() === 5), `the secondary got the zone: ${secondary.log.lines.join('\n')}`);
      } else {
        // The primary's answer, REFUSED, is what the secondary logs (the next try comes later).
        assert.ok(await eventually(() => secondary.log.lines.some((l) => /transfer refused with rcode 5/.test(l))), `refused: ${secondary.log.lines.join('\n')}`);
        assert.equal(serialOf(), undefined, 'no zone without the allowed source address');
      }
    } finally {
      await secondary.stop();
      await primary.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('notify-source and transfer-source must be IP addresses, transfer-source only for a secondary (the error names the field)', async () => {
  const dir = tempDir('source-config');
  const cfg = join(dir, 'c.yaml');
  try {
    writeFileSync(cfg, ['zones:', '  - name: a.test', '    primaries: ["127.0.0.1:5300"]', '    transfer-source: "ns1.example"', ''].join('\n'));
    await assert.rejects(loadConfig(cfg), (e: Error) => /transfer-source/.test(e.message) && /IP address/.test(e.message));
    writeFileSync(cfg, ['zones:', '  - name: a.test', '    file: a.zone', '    transfer-source: 127.0.0.1', ''].join('\n'));
    await assert.rejects(loadConfig(cfg), (e: Error) => /zones\.0\.transfer-source|transfer-source.*secondary/.test(e.message));
    writeFileSync(cfg, ['zones:', '  - name: a.test', '    file: a.zone', '    notify-source: "::1"', '    notify: ["[::1]:5300"]', ''].join('\n'));
    const c = await loadConfig(cfg);
    assert.equal(c.zones[0]!['notify-source'], '::1');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
