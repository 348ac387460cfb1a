// RFC 6891 §7: transfer answers carry an OPT when the query had EDNS, and none otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { decodeMessage, encodeMessage, makeMessage, Name, RRClass, RRType, type Message } from '../../src/wire/index.js';
import { exchangeUdp } from '../../src/xfr/client.js';
import { loadZoneFile, startNode, tempDir, zoneText } from './xfr-harness.js';

const origin = Name.parse('example.test.');

/** Sends one query over TCP and reads answers until one ends with the closing SOA (or 50 messages). */
function axfr(port: number, q: Message): Promise<Message[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.85', port });
    const out: Message[] = [];
    let buf = Buffer.alloc(0);
    let soas = 0;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('no complete answer')); }, 10_000);
    sock.on('connect', () => {
      const w = encodeMessage(q);
      const f = Buffer.alloc(2 + w.length);
      f.writeUInt16BE(w.length, 0);
      f.set(w, 2);
      sock.write(f);
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const m = decodeMessage(new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
        out.push(m);
        soas += m.answer.filter((r) => r.type === RRType.SOA).length;
        if (soas >= 2 || m.rcode !== 0 || out.length >= 50) { clearTimeout(timer); sock.destroy(); resolve(out); }
      }
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

test('RFC 6891 §7 / RFC 5936: OPT in every AXFR message when the query had EDNS', async (t) => {
  const dir = tempDir('edns');
  const file = join(dir, 'z.zone');
  const extra = Array.from({ length: 3000 }, (_, i) => `t${i} 300 IN TXT "${'x'.repeat(40)} ${i}"`);
  const fz = loadZoneFile('example.test', file, zoneText('example.test', 5, extra));
  const node = await startNode('127.0.0.85', 16330, { zones: [{ name: 'example.test', file, 'allow-transfer': ['127.0.0.0/8'] }] }, [fz]);
  try {
    const question = [{ name: origin, type: RRType.AXFR, class: RRClass.IN }];
    const withEdns = await axfr(16330, makeMessage({ id: 7, question, edns: { udpSize: 4096, version: 0, do: true, z: 0, options: [] } }));
    assert.ok(withEdns.length > 1, 'several messages');
    for (const m of withEdns) assert.equal(m.edns?.version, 0, 'each message has an OPT');
    const records = withEdns.reduce((n, m) => n + m.answer.length, 0);
    assert.equal(records, fz.recordCount + 1, 'the OPT takes no record away (SOA twice)');
    const plain = await axfr(16330, makeMessage({ id: 8, question }));
    for (const m of plain) assert.equal(m.edns, undefined, 'no OPT without EDNS in the query');
    // Refusals and IXFR-over-UDP answers too.
    const ixfrUdp = await exchangeUdp({ address: '127.0.0.85', port: 16330, text: 'n' }, makeMessage({ question: [{ name: origin, type: RRType.IXFR, class: RRClass.IN }], authority: [fz.soa], edns: { udpSize: 1232, version: 0, do: false, z: 0, options: [] } }));
    assert.ok(ixfrUdp.message.edns, 'IXFR over UDP: OPT in the SOA-only answer');
    t.diagnostic(`${withEdns.length} messages, ${records} records, all with OPT`);
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
