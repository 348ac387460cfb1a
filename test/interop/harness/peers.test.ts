// Self-test of the interop harness: every peer starts from a generated config, answers a
// query for a tiny zone over UDP and TCP, and stops again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RRType, Rcode } from '../../../src/wire/index.js';
import {
  compareResponses, query, requirePeer, startBind, startKnot, startNsd, startPdns, startUnbound, type RunningServer, type ZoneSpec,
} from './index.js';

// Ports 15440-15459 belong to this file (other interop files use other ports).
const PORT = 15440;
const zone: ZoneSpec = {
  name: 'harness.test',
  text: [
    '$ORIGIN harness.test.',
    '$TTL 300',
    '@ SOA ns1 hostmaster 7 3600 900 604800 60',
    '@ NS ns1',
    'ns1 A 192.0.2.53',
    'www A 192.0.2.80',
    '',
  ].join('\n'),
};

const peers: Array<[string, string, (z: ZoneSpec[]) => Promise<RunningServer>]> = [
  ['nsd', 'nsd', (z) => startNsd(z, PORT, { address: '127.0.0.2' })],
  ['knot', 'knotd', (z) => startKnot(z, PORT, { address: '127.0.0.3' })],
  ['bind', 'named', (z) => startBind(z, PORT, { address: '127.0.0.1' })],
  ['unbound auth-zone', 'unbound', (z) => startUnbound(PORT, { address: '127.0.0.5', zones: z })],
  ['pdns', 'pdns_server', (z) => startPdns(z, PORT, { address: '127.0.0.6' })],
];

for (const [label, binary, start] of peers) {
  test(`harness: ${label} starts, answers over UDP and TCP, stops`, { skip: requirePeer(binary) }, async () => {
    const server = await start([zone]);
    try {
      const udp = await query(server, 'www.harness.test', 'A');
      const tcp = await query(server, 'WwW.HaRnEsS.TeSt', 'A', { tcp: true, bufsize: 1232 });
      assert.equal(udp.message.rcode, Rcode.NOERROR);
      assert.equal(udp.message.answer.length, 1);
      assert.equal(udp.message.answer[0]!.type, RRType.A);
      assert.deepEqual(udp.message.answer[0]!.data, tcp.message.answer[0]!.data);
      const nx = await query(server, 'nope.harness.test', 'A');
      assert.equal(nx.message.rcode, Rcode.NXDOMAIN);
      // The two answers to www differ at most in what the transport may change.
      const diffs = compareResponses(udp.message, tcp.message).filter((d) => d.field === 'answer' || d.field === 'rcode');
      assert.deepEqual(diffs, []);
    } finally {
      await server.stop();
    }
  });
}
