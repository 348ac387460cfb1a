// Hand-written protobuf (proto2) encoding of the dnstap schema.
//
// Schema: dnstap.proto from https://github.com/dnstap/dnstap.pb (CC0, also at https://dnstap.info/):
//
//   message Dnstap { optional bytes identity = 1; optional bytes version = 2; optional bytes extra = 3;
//                    optional Message message = 14; required Type type = 15; }   // Type: MESSAGE = 1
//   enum SocketFamily   { INET = 1; INET6 = 2; }
//   enum SocketProtocol { UDP = 1; TCP = 2; DOT = 3; DOH = 4; DNSCryptUDP = 5; DNSCryptTCP = 6; DOQ = 7; }
//   message Message {
//     required Type type = 1;                      optional SocketFamily socket_family = 2;
//     optional SocketProtocol socket_protocol = 3; optional bytes query_address = 4;
//     optional bytes response_address = 5;         optional uint32 query_port = 6;
//     optional uint32 response_port = 7;           optional uint64 query_time_sec = 8;
//     optional fixed32 query_time_nsec = 9;        optional bytes query_message = 10;
//     optional bytes query_zone = 11;              optional uint64 response_time_sec = 12;
//     optional fixed32 response_time_nsec = 13;    optional bytes response_message = 14;
//     (policy = 15 and http_protocol = 16 are not written)
//   }
//
// Only the encoder lives here: the server never reads dnstap. Each event becomes one buffer,
// sized exactly before writing, so a frame costs one allocation.
import net from 'node:net';

/** Dnstap.Type */
export const DnstapType = { MESSAGE: 1 } as const;

/** Message.Type */
export const MessageType = {
  AUTH_QUERY: 1,
  AUTH_RESPONSE: 2,
  RESOLVER_QUERY: 3,
  RESOLVER_RESPONSE: 4,
  CLIENT_QUERY: 5,
  CLIENT_RESPONSE: 6,
  FORWARDER_QUERY: 7,
  FORWARDER_RESPONSE: 8,
} as const;

export const SocketFamily = { INET: 1, INET6: 2 } as const;
export const SocketProtocol = { UDP: 1, TCP: 2, DOT: 3, DOH: 4 } as const;

/** Field numbers of `Dnstap`. */
export const DNSTAP_FIELD = { identity: 1, version: 2, extra: 3, message: 14, type: 15 } as const;

/** Field numbers of `Message`. */
export const MESSAGE_FIELD = {
  type: 1,
  socketFamily: 2,
  socketProtocol: 3,
  queryAddress: 4,
  responseAddress: 5,
  queryPort: 6,
  responsePort: 7,
  queryTimeSec: 8,
  queryTimeNsec: 9,
  queryMessage: 10,
  queryZone: 11,
  responseTimeSec: 12,
  responseTimeNsec: 13,
  responseMessage: 14,
} as const;

/** Protobuf wire types (encoding guide, "Message Structure"). */
const VARINT = 0;
const LEN = 2;
const I32 = 5;

/** A wall-clock instant as dnstap stores it: seconds since the epoch and nanoseconds. */
export interface DnstapTimestamp {
  readonly sec: number;
  readonly nsec: number;
}

/** One dnstap `Message`; absent fields are not written. */
export interface DnstapMessage {
  readonly type: number;
  readonly socketFamily?: number;
  readonly socketProtocol?: number;
  readonly queryAddress?: Uint8Array;
  readonly responseAddress?: Uint8Array;
  readonly queryPort?: number;
  readonly responsePort?: number;
  readonly queryTime?: DnstapTimestamp;
  readonly queryMessage?: Uint8Array;
  readonly queryZone?: Uint8Array;
  readonly responseTime?: DnstapTimestamp;
  readonly responseMessage?: Uint8Array;
}

/** The `Dnstap` fields that are the same for every message of one server. */
export interface DnstapHeader {
  readonly identity?: Uint8Array;
  readonly version?: Uint8Array;
}

export function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Writes protobuf fields into a buffer that was sized beforehand. */
class ProtoWriter {
  pos: number;
  constructor(readonly buf: Buffer, start = 0) {
    this.pos = start;
  }

  raw(v: number): void {
    // Division, not bit shifts: uint64 seconds exceed 32 bits (numbers stay exact below 2^53).
    while (v >= 128) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  varint(field: number, v: number): void {
    this.raw((field << 3) | VARINT);
    this.raw(v);
  }

  fixed32(field: number, v: number): void {
    this.raw((field << 3) | I32);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  bytes(field: number, b: Uint8Array): void {
    this.raw((field << 3) | LEN);
    this.raw(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

// Every field number used here is below 16, so each tag is one byte.
const varintField = (v: number | undefined) => (v === undefined ? 0 : 1 + varintSize(v));
const bytesField = (b: Uint8Array | undefined) => (b === undefined ? 0 : 1 + varintSize(b.length) + b.length);
const timeFields = (t: DnstapTimestamp | undefined) => (t === undefined ? 0 : 1 + varintSize(t.sec) + 1 + 4);

function checkUint(name: string, v: number | undefined, max: number): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= max)) throw new RangeError(`dnstap: ${name} out of range: ${v}`);
}

export function messageSize(m: DnstapMessage): number {
  return (
    varintField(m.type) + varintField(m.socketFamily) + varintField(m.socketProtocol) +
    bytesField(m.queryAddress) + bytesField(m.responseAddress) +
    varintField(m.queryPort) + varintField(m.responsePort) +
    timeFields(m.queryTime) + bytesField(m.queryMessage) + bytesField(m.queryZone) +
    timeFields(m.responseTime) + bytesField(m.responseMessage)
  );
}

function writeMessage(w: ProtoWriter, m: DnstapMessage): void {
  const F = MESSAGE_FIELD;
  w.varint(F.type, m.type);
  if (m.socketFamily !== undefined) w.varint(F.socketFamily, m.socketFamily);
  if (m.socketProtocol !== undefined) w.varint(F.socketProtocol, m.socketProtocol);
  if (m.queryAddress) w.bytes(F.queryAddress, m.queryAddress);
  if (m.responseAddress) w.bytes(F.responseAddress, m.responseAddress);
  if (m.queryPort !== undefined) w.varint(F.queryPort, m.queryPort);
  if (m.responsePort !== undefined) w.varint(F.responsePort, m.responsePort);
  if (m.queryTime) {
    w.varint(F.queryTimeSec, m.queryTime.sec);
    w.fixed32(F.queryTimeNsec, m.queryTime.nsec);
  }
  if (m.queryMessage) w.bytes(F.queryMessage, m.queryMessage);
  if (m.queryZone) w.bytes(F.queryZone, m.queryZone);
  if (m.responseTime) {
    w.varint(F.responseTimeSec, m.responseTime.sec);
    w.fixed32(F.responseTimeNsec, m.responseTime.nsec);
  }
  if (m.responseMessage) w.bytes(F.responseMessage, m.responseMessage);
}

function validate(m: DnstapMessage): void {
  checkUint('type', m.type, 0x7fffffff);
  checkUint('query_port', m.queryPort, 65535);
  checkUint('response_port', m.responsePort, 65535);
  if (m.queryTime) checkTime('query_time', m.queryTime);
  if (m.responseTime) checkTime('response_time', m.responseTime);
}

function checkTime(name: string, t: DnstapTimestamp): void {
  checkUint(`${name}_sec`, t.sec, Number.MAX_SAFE_INTEGER);
  checkUint(`${name}_nsec`, t.nsec, 999_999_999);
}

/**
 * Encodes `Dnstap{identity, version, message, type = MESSAGE}`. With `framePrefix`, the result
 * starts with the 4-byte big-endian length of the protobuf bytes: a ready Frame Streams data frame.
 */
export function encodeDnstap(header: DnstapHeader, m: DnstapMessage, framePrefix = false): Buffer {
  validate(m);
  const inner = messageSize(m);
  const size = bytesField(header.identity) + bytesField(header.version) + 1 + varintSize(inner) + inner + 2;
  const offset = framePrefix ? 4 : 0;
  const buf = Buffer.allocUnsafe(offset + size);
  if (framePrefix) buf.writeUInt32BE(size, 0);
  const w = new ProtoWriter(buf, offset);
  if (header.identity) w.bytes(DNSTAP_FIELD.identity, header.identity);
  if (header.version) w.bytes(DNSTAP_FIELD.version, header.version);
  w.raw((DNSTAP_FIELD.message << 3) | LEN);
  w.raw(inner);
  writeMessage(w, m);
  w.varint(DNSTAP_FIELD.type, DnstapType.MESSAGE);
  if (w.pos !== buf.length) throw new Error(`dnstap: size mismatch (${w.pos} != ${buf.length})`);
  return buf;
}

/** The Frame Streams data frame (length + protobuf) for one event. */
export function encodeDnstapFrame(header: DnstapHeader, m: DnstapMessage): Buffer {
  return encodeDnstap(header, m, true);
}

/**
 * An IP address as dnstap stores it: family INET with 4 octets, INET6 with 16. IPv4-mapped IPv6
 * addresses (what a dual-stack socket reports for an IPv4 peer) are stored as the IPv4 address
 * they carry. Undefined for anything that is not an address.
 */
export function addressBytes(address: string): { family: number; bytes: Uint8Array } | undefined {
  const zone = address.indexOf('%');
  const a = zone >= 0 ? address.slice(0, zone) : address;
  if (net.isIPv4(a)) return { family: SocketFamily.INET, bytes: ipv4Bytes(a) };
  if (!net.isIPv6(a)) return undefined;
  const bytes = ipv6Bytes(a);
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? { family: SocketFamily.INET, bytes: bytes.slice(12) } : { family: SocketFamily.INET6, bytes };
}

function ipv4Bytes(a: string): Uint8Array {
  return Uint8Array.from(a.split('.'), (p) => Number(p));
}

/** Parses a syntactically valid IPv6 address (net.isIPv6 checked it). */
function ipv6Bytes(a: string): Uint8Array {
  const out = new Uint8Array(16);
  let tail4: Uint8Array | undefined;
  let text = a;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    tail4 = ipv4Bytes(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const hs = head === '' ? [] : head.split(':');
  const ts = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? hs : [...hs, ...Array<string>(8 - hs.length - ts.length).fill('0'), ...ts];
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  if (tail4) out.set(tail4, 12);
  return out;
}

/** process.hrtime.bigint() and the wall clock (seconds, nanoseconds) read at one instant. */
const clockBase = (() => {
  const ms = Date.now();
  return { hr: process.hrtime.bigint(), sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 };
})();

function fromBase(deltaNs: number): DnstapTimestamp {
  // deltaNs is exact to the nanosecond for 104 days of uptime, then rounds below a microsecond.
  const total = clockBase.nsec + deltaNs;
  const carry = Math.floor(total / 1e9);
  const sec = clockBase.sec + carry;
  if (sec < 0) return { sec: 0, nsec: 0 };
  return { sec, nsec: Math.round(total - carry * 1e9) % 1_000_000_000 };
}

/**
 * Converts a time to dnstap's (seconds, nanoseconds) since the epoch: a `bigint` is a
 * `process.hrtime.bigint()` reading (like `Request.receivedAt`), a number is epoch
 * milliseconds (Date.now()), a Date is itself; absent means now.
 */
export function toTimestamp(t?: bigint | number | Date): DnstapTimestamp {
  if (t === undefined) return fromBase(Number(process.hrtime.bigint() - clockBase.hr));
  if (typeof t === 'bigint') return fromBase(Number(t - clockBase.hr));
  const ms = typeof t === 'number' ? t : t.getTime();
  if (!(ms > 0)) return { sec: 0, nsec: 0 };
  // Whole milliseconds and the fraction apart: ms * 1e6 as a double would lose the low digits.
  const whole = Math.floor(ms);
  const sec = Math.floor(whole / 1000);
  return { sec, nsec: (whole - sec * 1000) * 1_000_000 + Math.round((ms - whole) * 1_000_000) };
}
