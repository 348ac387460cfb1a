// dnstap protobuf encoding: bytes checked by a tiny independent decoder against the field
// numbers and wire types of dnstap.proto (github.com/dnstap/dnstap.pb), and against a vector
// published with another implementation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MessageType, SocketFamily, SocketProtocol, addressBytes, encodeDnstap, encodeDnstapFrame, toTimestamp,
  type DnstapMessage,
} from '../../src/monitor/dnstap-protobuf.js';
import { decodeDnstap } from '../../src/monitor/dnstap-decode.js';

// Field number -> [name, wire type] as dnstap.proto declares them (0 varint, 2 bytes, 5 fixed32).
const DNSTAP_SCHEMA: Record<number, [string, number]> = { 1: ['identity', 2], 2: ['version', 2], 3: ['extra', 2], 14: ['message', 2], 15: ['type', 0] };
const MESSAGE_SCHEMA: Record<number, [string, number]> = {
  1: ['type', 0], 2: ['socket_family', 0], 3: ['socket_protocol', 0], 4: ['query_address', 2], 5: ['response_address', 2],
  6: ['query_port', 0], 7: ['response_port', 0], 8: ['query_time_sec', 0], 9: ['query_time_nsec', 5], 10: ['query_message', 2],
  11: ['query_zone', 2], 12: ['response_time_sec', 0], 13: ['response_time_nsec', 5], 14: ['response_message', 2],
};

/** The tiny test decoder: field name -> value (bigint for varints, bytes otherwise), by a schema table. */
function decode(buf: Uint8Array, schema: Record<number, [string, number]>): Map<string, bigint | Uint8Array> {
  const out = new Map<string, bigint | Uint8Array>();
  let p = 0;
  const varint = () => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[p++];
      assert.ok(b !== undefined, 'varint runs past the end');
      v |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (b < 0x80) return v;
    }
  };
  while (p < buf.length) {
    const tag = varint();
    const field = Number(tag >> 3n);
    const wt = Number(tag & 7n);
    const known = schema[field];
    assert.ok(known, `field ${field} is not in the schema`);
    assert.equal(wt, known[1], `wire type of ${known[0]} (field ${field})`);
    assert.ok(!out.has(known[0]), `${known[0]} written twice`);
    if (wt === 0) out.set(known[0], varint());
    else if (wt === 5) {
      out.set(known[0], Uint8Array.from(buf.subarray(p, p + 4)));
      p += 4;
    } else {
      const n = Number(varint());
      assert.ok(p + n <= buf.length, `${known[0]} runs past the end`);
      out.set(known[0], Uint8Array.from(buf.subarray(p, p + n)));
      p += n;
    }
  }
  return out;
}

const le32 = (b: bigint | Uint8Array | undefined) => Buffer.from(b as Uint8Array).readUInt32LE(0);

const query = Uint8Array.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x77, 0x77, 0x77, 4, 0x74, 0x65, 0x73, 0x74, 0, 0, 1, 0, 1]);

test('a client response carries every field with the number and wire type of dnstap.proto', () => {
  const m: DnstapMessage = {
    type: MessageType.CLIENT_RESPONSE, socketFamily: SocketFamily.INET6, socketProtocol: SocketProtocol.TCP,
    queryAddress: addressBytes('2001:db8::53')!.bytes, responseAddress: addressBytes('::1')!.bytes,
    queryPort: 50123, responsePort: 853,
    queryTime: { sec: 1_700_000_000, nsec: 123_456_789 }, queryMessage: query,
    responseTime: { sec: 5_000_000_000, nsec: 999_999_999 }, responseMessage: Uint8Array.from([...query.slice(0, 2), 0x81, 0x80, ...query.slice(4)]),
    queryZone: Uint8Array.from([4, 0x74, 0x65, 0x73, 0x74, 0]),
  };
  const bytes = encodeDnstap({ identity: Buffer.from('ns1.test'), version: Buffer.from('portcullis 9') }, m);
  const top = decode(bytes, DNSTAP_SCHEMA);
  assert.equal(Buffer.from(top.get('identity') as Uint8Array).toString(), 'ns1.test');
  assert.equal(Buffer.from(top.get('version') as Uint8Array).toString(), 'portcullis 9');
  assert.equal(top.get('type'), 1n, 'Dnstap.type MESSAGE');
  assert.equal(top.has('extra'), false);
  const msg = decode(top.get('message') as Uint8Array, MESSAGE_SCHEMA);
  assert.equal(msg.size, 14, 'every Message field written once');
  assert.equal(msg.get('type'), 6n);
  assert.equal(msg.get('socket_family'), 2n);
  assert.equal(msg.get('socket_protocol'), 2n);
  assert.equal(Buffer.from(msg.get('query_address') as Uint8Array).toString('hex'), '20010db8000000000000000000000053');
  assert.equal(Buffer.from(msg.get('response_address') as Uint8Array).toString('hex'), '00000000000000000000000000000001');
  assert.equal(msg.get('query_port'), 50123n);
  assert.equal(msg.get('response_port'), 853n);
  assert.equal(msg.get('query_time_sec'), 1_700_000_000n);
  assert.equal(le32(msg.get('query_time_nsec')), 123_456_789);
  assert.equal(msg.get('response_time_sec'), 5_000_000_000n, 'uint64 seconds beyond 32 bits');
  assert.equal(le32(msg.get('response_time_nsec')), 999_999_999);
  assert.deepEqual(msg.get('query_message'), query);
  assert.deepEqual(msg.get('query_zone'), m.queryZone);
  assert.deepEqual(msg.get('response_message'), m.responseMessage);

  // The decoder in src/ reads the same thing back.
  const d = decodeDnstap(bytes);
  assert.equal(d.type, 1);
  assert.equal(d.identity?.toString(), 'ns1.test');
  assert.deepEqual({ ...d.message, queryAddress: undefined, responseAddress: undefined, queryMessage: undefined, responseMessage: undefined, queryZone: undefined },
    { ...m, queryAddress: undefined, responseAddress: undefined, queryMessage: undefined, responseMessage: undefined, queryZone: undefined });
});

test('absent optional fields are not written; the smallest message is 6 bytes', () => {
  const bytes = encodeDnstap({}, { type: MessageType.CLIENT_QUERY });
  // 0x72 = field 14 bytes, len 2: (0x08 = field 1 varint, 5); 0x78 = field 15 varint, 1.
  assert.deepEqual([...bytes], [0x72, 0x02, 0x08, 0x05, 0x78, 0x01]);
  const top = decode(bytes, DNSTAP_SCHEMA);
  assert.deepEqual([...top.keys()].sort(), ['message', 'type']);
  assert.deepEqual([...decode(top.get('message') as Uint8Array, MESSAGE_SCHEMA).keys()], ['type']);
});

test('same bytes as the example vector of go-dnstap-protobuf (README, encoder example)', () => {
  // From github.com/dmachard/go-dnstap-protobuf README: identity "dnstappb", version
  // "dnstappb 0.0.0", CLIENT_QUERY over UDP/INET from 10.0.0.210:55142 to 10.0.0.210:53 at
  // 1609664398.355231260, with a 53-byte query.
  const q = [218, 186, 1, 32, 0, 1, 0, 0, 0, 0, 0, 1, 3, 119, 119, 119, 6, 103, 111, 111, 103, 108, 101, 2, 102, 114, 0, 0, 1, 0, 1,
    0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 12, 0, 10, 0, 8, 230, 56, 227, 142, 1, 222, 120];
  const expected = [10, 8, 100, 110, 115, 116, 97, 112, 112, 98, 18, 14, 100, 110, 115, 116, 97, 112, 112, 98, 32, 48, 46, 48, 46, 48,
    114, 90, 8, 5, 16, 1, 24, 1, 34, 4, 10, 0, 0, 210, 42, 4, 10, 0, 0, 210, 48, 230, 174, 3, 56, 53, 64, 142, 143, 198, 255, 5,
    77, 28, 102, 44, 21, 82, 53, ...q, 120, 1];
  const addr = addressBytes('10.0.0.210')!;
  const bytes = encodeDnstap({ identity: Buffer.from('dnstappb'), version: Buffer.from('dnstappb 0.0.0') }, {
    type: MessageType.CLIENT_QUERY, socketFamily: addr.family, socketProtocol: SocketProtocol.UDP,
    queryAddress: addr.bytes, responseAddress: addr.bytes, queryPort: 55142, responsePort: 53,
    queryTime: { sec: 1609664398, nsec: 355231260 }, queryMessage: Uint8Array.from(q),
  });
  assert.deepEqual([...bytes], expected);
});

test('a frame is the 4-byte big-endian length then the protobuf bytes', () => {
  const m: DnstapMessage = { type: MessageType.RESOLVER_QUERY, queryMessage: query };
  const plain = encodeDnstap({ version: Buffer.from('v') }, m);
  const frame = encodeDnstapFrame({ version: Buffer.from('v') }, m);
  assert.equal(frame.readUInt32BE(0), plain.length);
  assert.deepEqual(frame.subarray(4), plain);
});

test('addresses: IPv4 4 octets, IPv6 16, IPv4-mapped as IPv4, zone ids ignored, junk refused', () => {
  const hex = (a: string) => {
    const r = addressBytes(a);
    return r && `${r.family}:${Buffer.from(r.bytes).toString('hex')}`;
  };
  const cases: Array<[string, string | undefined]> = [
    ['127.0.0.1', '1:7f000001'],
    ['192.0.2.255', '1:c00002ff'],
    ['::1', '2:00000000000000000000000000000001'],
    ['::', '2:00000000000000000000000000000000'],
    ['2001:db8::1', '2:20010db8000000000000000000000001'],
    ['1:2:3:4:5:6:7:8', '2:00010002000300040005000600070008'],
    ['fe80::1%eth0', '2:fe800000000000000000000000000001'],
    ['2001:db8:0:0:1::', '2:20010db8000000000001000000000000'],
    ['::ffff:192.0.2.1', '1:c0000201'],
    ['64:ff9b::192.0.2.33', '2:0064ff9b0000000000000000c0000221'],
    ['localhost', undefined],
    ['300.1.1.1', undefined],
  ];
  for (const [a, want] of cases) assert.equal(hex(a), want, a);
});

test('times: epoch ms, Date and hrtime readings become seconds and nanoseconds', () => {
  assert.deepEqual(toTimestamp(1500.25), { sec: 1, nsec: 500_250_000 });
  assert.deepEqual(toTimestamp(new Date(Date.UTC(2024, 0, 1, 0, 0, 0, 7))), { sec: 1704067200, nsec: 7_000_000 });
  const before = Date.now();
  const t = toTimestamp(process.hrtime.bigint());
  const ms = t.sec * 1000 + t.nsec / 1e6;
  // hrtime is mapped through one wall-clock reading at load; it agrees with Date.now() to the
  // clock's precision (not a time limit: both read the same instant).
  assert.ok(Math.abs(ms - before) < 1000, `hrtime maps to ${ms}, wall clock ${before}`);
  const later = toTimestamp(process.hrtime.bigint() + 2_500_000_000n);
  assert.ok(later.sec * 1e9 + later.nsec - (t.sec * 1e9 + t.nsec) >= 2.5e9 - 1e7);
});

test('out-of-range values are refused, not written', () => {
  assert.throws(() => encodeDnstap({}, { type: 5, queryPort: 70000 }), RangeError);
  assert.throws(() => encodeDnstap({}, { type: 5, queryTime: { sec: 1, nsec: 1e9 } }), RangeError);
  assert.throws(() => encodeDnstap({}, { type: 5, responsePort: -1 }), RangeError);
});
