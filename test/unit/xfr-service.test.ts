import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeMessage, encodeMessage, makeMessage, Name, Opcode, Rcode, RRClass, RRType, recordFromText, recordToText,
  type Message, type ResourceRecord, type SoaData,
} from '../../src/wire/index.js';
import { makeTsigKey, readTsig, signMessage, verifyMessage } from '../../src/xfr/tsig.js';
import { exchangeUdp, parseRemote, transferIn, TransferReader, type Remote } from '../../src/xfr/client.js';
import { Journal } from '../../src/xfr/journal.js';
import { eventually, KEYS, loadZoneFile, SECRET, startNode, tempDir, zoneText } from './xfr-harness.js';

const ORIGIN = 'example.test';
const origin = Name.parse(ORIGIN + '.');
const key = makeTsigKey('xfr-key', 'hmac-sha256', SECRET);
const other = makeTsigKey('other-key', 'hmac-sha512', SECRET);
const texts = (rrs: Iterable<ResourceRecord>) => [...rrs].map((r) => recordToText(r)).sort();

/** One framed exchange over TCP with raw bytes; returns every answer frame until `count` arrived. */
function rawTcp(address: string, port: number, wire: Uint8Array, count = 1): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: address, port });
    const frames: Uint8Array[] = [];
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('no answer')); }, 5000);
    sock.on('connect', () => {
      const out = Buffer.alloc(2 + wire.length);
      out.writeUInt16BE(wire.length, 0);
      out.set(wire, 2);
      sock.write(out);
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        frames.push(new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (frames.length >= count) { clearTimeout(timer); sock.destroy(); resolve(frames); }
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

const axfrQuery = (id = 4242): Uint8Array => encodeMessage(makeMessage({ id, question: [{ name: origin, type: RRType.AXFR, class: RRClass.IN }] }));

function updateMessage(updates: ResourceRecord[], prereq: ResourceRecord[] = []): Message {
  return makeMessage({ opcode: Opcode.UPDATE, question: [{ name: origin, type: RRType.SOA, class: RRClass.IN }], answer: prereq, authority: updates });
}

test('TransferReader: AXFR form, IXFR differences, and a lone SOA (RFC 1995 §4, RFC 5936 §2.2)', () => {
  const soa = (s: number) => recordFromText(`example.test. 3600 IN SOA ns1.example.test. h.example.test. ${s} 3600 600 86400 300`);
  const a = (i: number) => recordFromText(`h${i}.example.test. 60 IN A 192.0.2.${i}`);
  let r = new TransferReader(RRType.AXFR);
  const seq = [soa(5), a(1), a(2), soa(5)];
  assert.deepEqual(seq.map((x) => r.push(x)), [false, false, false, true]);
  const out = r.outcome();
  assert.equal(out.kind, 'axfr');
  assert.equal(out.kind === 'axfr' && out.records.length, 3);

  r = new TransferReader(RRType.IXFR, 3);
  const inc = [soa(5), soa(3), a(1), soa(4), a(2), soa(4), soa(5), a(3), soa(5)];
  assert.deepEqual(inc.map((x) => r.push(x)), [false, false, false, false, false, false, false, false, true]);
  const o2 = r.outcome();
  assert.equal(o2.kind, 'ixfr');
  if (o2.kind === 'ixfr') {
    assert.deepEqual(o2.entries.map((e) => [e.from, e.to, e.deleted.length, e.added.length]), [[3, 4, 2, 2], [4, 5, 1, 2]]);
  }
  // IXFR answered in AXFR form (history too short).
  r = new TransferReader(RRType.IXFR, 3);
  assert.deepEqual([soa(5), a(1), soa(5)].map((x) => r.push(x)), [false, false, true]);
  assert.equal(r.outcome().kind, 'axfr');
  // A lone SOA with our serial: up to date.
  r = new TransferReader(RRType.IXFR, 5);
  r.push(soa(5));
  assert.equal(r.endOfMessage(1), true);
  assert.equal(r.outcome().kind, 'uptodate');
  assert.throws(() => new TransferReader(RRType.AXFR).push(a(1)), /did not start with a SOA/);
});

test('parseRemote: address, port, key; errors name the entry', () => {
  const keys = (n: string) => (n === 'xfr-key' ? key : undefined);
  assert.deepEqual({ ...parseRemote('127.0.0.1:5300 key xfr-key', keys), key: undefined }, { address: '127.0.0.1', port: 5300, key: undefined, text: '127.0.0.1:5300 key xfr-key' });
  assert.equal(parseRemote('127.0.0.1:5300 key xfr-key', keys).key, key);
  assert.equal(parseRemote('[::1]:5301', keys).port, 5301);
  assert.equal(parseRemote('::1', keys).port, 53);
  assert.throws(() => parseRemote('ns1.example:53', keys), /not an IP address/);
  assert.throws(() => parseRemote('127.0.0.1:53 key nope', keys), /unknown key "nope"/);
  assert.throws(() => parseRemote('127.0.0.1:99999', keys), /bad port/);
});

test('primary: AXFR with TSIG in many messages, ACL and TSIG errors, UPDATE, IXFR, journal replay', async (t) => {
  const dir = tempDir('primary');
  const file = join(dir, 'example.test.zone');
  const extra = Array.from({ length: 3000 }, (_, i) => `host${i} 300 IN TXT "${'filler '.repeat(6)}${i}"`);
  const fz = loadZoneFile(ORIGIN, file, zoneText(ORIGIN, 100, extra));
  const config = { keys: KEYS, zones: [{ name: ORIGIN, file, 'allow-transfer': ['xfr-key'], 'allow-update': ['key xfr-key'] }] };
  const node = await startNode('127.0.0.80', 16300, config, [fz]);
  const remote: Remote = { address: '127.0.0.80', port: 16300, key, text: 'primary' };
  try {
    // AXFR signed, every message verified by the client (StreamVerifier in transferIn).
    const ax = await transferIn(remote, origin, RRType.AXFR);
    assert.equal(ax.kind, 'axfr');
    if (ax.kind === 'axfr') assert.deepEqual(texts(ax.records), texts(fz.records()));
    const frames = await rawTcp('127.0.0.80', 16300, signMessage(axfrQuery(), key).wire, 3);
    assert.ok(frames.length >= 3, 'a 3000-record zone needs several messages');
    t.diagnostic(`AXFR of ${fz.recordCount} records checked; first frames ${frames.map((f) => f.length).join(', ')} bytes`);

    // Unsigned: REFUSED by allow-transfer. Unknown key: NOTAUTH + BADKEY. Tampered: BADSIG. Skewed clock: BADTIME.
    const unsigned = decodeMessage((await rawTcp('127.0.0.80', 16300, axfrQuery()))[0]!);
    assert.equal(unsigned.rcode, Rcode.REFUSED);
    const badkey = (await rawTcp('127.0.0.80', 16300, signMessage(axfrQuery(), makeTsigKey('nokey', 'hmac-sha256', SECRET)).wire))[0]!;
    assert.equal(decodeMessage(badkey).rcode, Rcode.NOTAUTH);
    assert.equal(readTsig(badkey)!.error, Rcode.BADKEY);
    assert.equal(readTsig(badkey)!.mac.length, 0, 'BADKEY answers are unsigned (empty MAC)');
    const tampered = signMessage(axfrQuery(), key).wire;
    tampered[tampered.length - 10] ^= 0xff; // inside the MAC
    const badsig = (await rawTcp('127.0.0.80', 16300, tampered))[0]!;
    assert.equal(readTsig(badsig)!.error, Rcode.BADSIG);
    const skewed = signMessage(axfrQuery(), key, { now: Math.floor(Date.now() / 1000) - 3600 });
    const badtime = (await rawTcp('127.0.0.80', 16300, skewed.wire))[0]!;
    assert.equal(decodeMessage(badtime).rcode, Rcode.NOTAUTH);
    const bt = readTsig(badtime)!;
    assert.equal(bt.error, Rcode.BADTIME);
    assert.equal(bt.other.length, 6, 'our time in Other Data');
    const v = verifyMessage(badtime, (n) => (n.equals(key.name) ? key : undefined), { requestMac: skewed.mac, now: bt.timeSigned });
    assert.ok(v?.ok, 'BADTIME answers are signed');
    // A key the ACL does not name is refused even though it verifies.
    const wrongKey = decodeMessage((await rawTcp('127.0.0.80', 16300, signMessage(axfrQuery(), other).wire))[0]!);
    assert.equal(wrongKey.rcode, Rcode.REFUSED);
    // AXFR over UDP is not defined (RFC 5936 §4.2).
    const overUdp = await exchangeUdp(remote, makeMessage({ question: [{ name: origin, type: RRType.AXFR, class: RRClass.IN }] }));
    assert.equal(overUdp.message.rcode, Rcode.FORMERR);

    // UPDATE: unsigned refused; signed applied, serial bumped, answered after the journal write.
    const add = recordFromText('new.example.test. 600 IN A 192.0.2.77');
    const refused = await exchangeUdp({ ...remote, key: undefined }, updateMessage([add]));
    assert.equal(refused.message.rcode, Rcode.REFUSED);
    const ok = await exchangeUdp(remote, updateMessage([add]));
    assert.equal(ok.message.rcode, Rcode.NOERROR);
    assert.equal(ok.message.opcode, Opcode.UPDATE);
    const j = await Journal.open(file + '.jnl');
    assert.deepEqual(j.entries.map((e) => [e.from, e.to]), [[100, 101]], 'the update is on disk');
    await j.close();
    assert.equal(node.zones().get(origin, RRClass.IN)!.serial, 101);
    const q = await exchangeUdp({ ...remote, key: undefined }, makeMessage({ question: [{ name: add.name, type: RRType.A, class: RRClass.IN }] }));
    assert.deepEqual(q.message.answer.map((r) => recordToText(r)), [recordToText(add)]);
    // A prerequisite that fails changes nothing (RFC 2136 §3.2).
    const nx = await exchangeUdp(remote, updateMessage([recordFromText('x.example.test. 60 IN A 192.0.2.9')], [{ name: Name.parse('nothere.example.test.'), type: RRType.ANY, class: RRClass.ANY, ttl: 0, data: new Uint8Array(0) }]));
    assert.equal(nx.message.rcode, Rcode.NXDOMAIN);
    // Second update: delete the new record.
    const del: ResourceRecord = { ...add, class: RRClass.NONE, ttl: 0 };
    assert.equal((await exchangeUdp(remote, updateMessage([del]))).message.rcode, Rcode.NOERROR);

    // IXFR from 100: two differences; from 102: up to date; over UDP: the SOA alone.
    const ix = await transferIn(remote, origin, RRType.IXFR, 100);
    assert.equal(ix.kind, 'ixfr');
    if (ix.kind === 'ixfr') {
      assert.deepEqual(ix.entries.map((e) => [e.from, e.to]), [[100, 101], [101, 102]]);
      assert.deepEqual(ix.entries[0]!.added.filter((r) => r.type !== RRType.SOA).map((r) => recordToText(r)), [recordToText(add)]);
    }
    assert.equal((await transferIn(remote, origin, RRType.IXFR, 102)).kind, 'uptodate');
    const udpIxfr = await exchangeUdp(remote, makeMessage({ question: [{ name: origin, type: RRType.IXFR, class: RRClass.IN }], authority: [{ ...fz.soa }] }));
    assert.deepEqual(udpIxfr.message.answer.map((r) => (r.data as SoaData).serial), [102]);
    // History that does not reach back: AXFR form.
    const old = await transferIn(remote, origin, RRType.IXFR, 7);
    assert.equal(old.kind, 'axfr');
  } finally {
    await node.stop();
  }
  // The zone file was rewritten on stop; the journal keeps the history.
  assert.match(readFileSync(file, "utf8"), /\tSOA\t\S+ \S+ 102 3600 600/);
  // Restart from the original file text (as if the sync never happened): the journal replays.
  const fz2 = loadZoneFile(ORIGIN, file, zoneText(ORIGIN, 100, extra));
  const node2 = await startNode('127.0.0.80', 16300, config, [fz2]);
  try {
    assert.equal(node2.zones().get(origin, RRClass.IN)!.serial, 102);
    assert.ok(node2.log.lines.some((l) => l.includes('journal replayed')));
  } finally {
    await node2.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('secondary: AXFR in, NOTIFY-triggered IXFR in, restart from disk, expiry; NOTIFY from others refused', async (t) => {
  const dir = tempDir('secondary');
  const pfile = join(dir, 'primary.zone');
  const sfile = join(dir, 'secondary.zone');
  // Short timers so expiry can be seen: refresh 1, retry 1, expire 3.
  const fz = loadZoneFile(ORIGIN, pfile, zoneText(ORIGIN, 7, [], '1 1 3 300'));
  const pconf = { keys: KEYS, zones: [{ name: ORIGIN, file: pfile, 'allow-transfer': ['xfr-key'], 'allow-update': ['xfr-key'], notify: ['127.0.0.81:16302 key xfr-key'], 'notify-source': '127.0.0.80' }] };
  const sconf = { keys: KEYS, zones: [{ name: ORIGIN, file: sfile, primaries: ['127.0.0.80:16301 key xfr-key'] }] };
  let primary = await startNode('127.0.0.80', 16301, pconf, [fz]);
  let secondary = await startNode('127.0.0.81', 16302, sconf, []);
  const serialOf = (n: typeof secondary) => n.zones().get(origin, RRClass.IN)?.serial;
  try {
    assert.ok(await eventually(() => serialOf(secondary) === 7), `secondary got the zone: ${secondary.log.lines.join('\n')}`);
    assert.ok(existsSync(sfile), 'the copy is kept on disk');
    const remote: Remote = { address: '127.0.0.80', port: 16301, key, text: 'primary' };
    const add = recordFromText('fresh.example.test. 60 IN TXT "via ixfr"');
    assert.equal((await exchangeUdp(remote, updateMessage([add]))).message.rcode, Rcode.NOERROR);
    assert.ok(await eventually(() => serialOf(secondary) === 8), 'NOTIFY, then IXFR');
    // Sent from the primary's address (notify-source), so the secondary took it.
    assert.ok(primary.log.lines.some((l) => l.includes('NOTIFY answered') && l.includes('"rcode":0')), `NOTIFY accepted: ${primary.log.lines.filter((l) => l.includes('NOTIFY')).join('\n')}`);
    assert.ok(secondary.log.lines.some((l) => l.includes('IXFR in')), 'the change came as differences');
    assert.deepEqual(texts(secondary.zones().get(origin, RRClass.IN)!.records()), texts(primary.zones().get(origin, RRClass.IN)!.records()));
    // NOTIFY from an address that is not a primary: REFUSED.
    const stranger = await exchangeUdp({ address: '127.0.0.81', port: 16302, text: 's' }, makeMessage({ opcode: Opcode.NOTIFY, aa: true, question: [{ name: origin, type: RRType.SOA, class: RRClass.IN }] }));
    assert.equal(stranger.message.rcode, Rcode.REFUSED);

    // Restart the secondary with the primary down: served at once from disk, then expires.
    await secondary.stop();
    await primary.stop();
    secondary = await startNode('127.0.0.81', 16302, sconf, []);
    assert.equal(serialOf(secondary), 8, 'served from the copy on disk at start');
    const expired = await eventually(() => serialOf(secondary) === undefined, 200);
    assert.ok(expired, 'stops serving after SOA expire with no primary');
    t.diagnostic(secondary.log.lines.filter((l) => /expired|refresh failed/.test(l)).slice(0, 3).join('\n'));
    // The primary comes back: the secondary serves again after its next retry.
    primary = await startNode('127.0.0.80', 16301, pconf, [loadZoneFile(ORIGIN, pfile, readFileSync(pfile, 'utf8'))]);
    assert.ok(await eventually(() => serialOf(secondary) === 8), 'served again after a successful refresh');
  } finally {
    await secondary.stop();
    await primary.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
