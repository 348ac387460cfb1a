import { EdnsOptionCode } from './constants.js';
import { WireError } from './errors.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './rdata/address.js';

/** EDNS(0) state of a message (RFC 6891): the OPT pseudo-record, decoded. */
export interface Edns {
  /** Requestor's / responder's UDP payload size (the OPT CLASS). */
  readonly udpSize: number;
  readonly version: number;
  /** DNSSEC OK (RFC 3225). */
  readonly do: boolean;
  /** The other 15 flag bits, kept so a decoder can see what a sender set. */
  readonly z: number;
  readonly options: readonly EdnsOption[];
}

/** One option; unknown codes are kept as bytes. */
export interface EdnsOption {
  readonly code: number;
  readonly data: Uint8Array;
}

export function getOption(edns: Edns | undefined, code: number): EdnsOption | undefined {
  return edns?.options.find((o) => o.code === code);
}

// ---- typed views of the known options ----

/** COOKIE (RFC 7873): 8-byte client cookie, optional 8..32-byte server cookie. */
export interface Cookie { client: Uint8Array; server?: Uint8Array }
export function decodeCookie(o: EdnsOption): Cookie {
  const n = o.data.length;
  if (n !== 8 && (n < 16 || n > 40)) throw new WireError(`COOKIE option of bad length ${n}`, 0);
  return n === 8 ? { client: o.data.slice(0, 8) } : { client: o.data.slice(0, 8), server: o.data.slice(8) };
}
export function encodeCookie(c: Cookie): EdnsOption {
  const data = new Uint8Array(8 + (c.server?.length ?? 0));
  data.set(c.client.subarray(0, 8));
  if (c.server) data.set(c.server, 8);
  return { code: EdnsOptionCode.COOKIE, data };
}

/** Extended DNS Error (RFC 8914). */
export interface Ede { infoCode: number; text: string }
export function decodeEde(o: EdnsOption): Ede {
  if (o.data.length < 2) throw new WireError('EDE option shorter than 2 bytes', 0);
  return { infoCode: (o.data[0]! << 8) | o.data[1]!, text: Buffer.from(o.data.subarray(2)).toString('utf8') };
}
export function encodeEde(e: Ede): EdnsOption {
  const text = Buffer.from(e.text, 'utf8');
  const data = new Uint8Array(2 + text.length);
  data[0] = e.infoCode >> 8;
  data[1] = e.infoCode & 0xff;
  data.set(text, 2);
  return { code: EdnsOptionCode.EDE, data };
}

/** EDNS Client Subnet (RFC 7871). */
export interface ClientSubnet { family: 1 | 2; sourcePrefix: number; scopePrefix: number; address: string }
export function decodeClientSubnet(o: EdnsOption): ClientSubnet {
  const d = o.data;
  if (d.length < 4) throw new WireError('CLIENT-SUBNET option too short', 0);
  const family = (d[0]! << 8) | d[1]!;
  const sourcePrefix = d[2]!;
  const scopePrefix = d[3]!;
  const full = family === 1 ? 4 : family === 2 ? 16 : -1;
  if (full < 0) throw new WireError(`CLIENT-SUBNET family ${family} unknown`, 0);
  if (sourcePrefix > full * 8 || d.length - 4 !== Math.ceil(sourcePrefix / 8)) throw new WireError('CLIENT-SUBNET address length does not match the prefix', 0);
  const addr = new Uint8Array(full);
  addr.set(d.subarray(4));
  return { family: family as 1 | 2, sourcePrefix, scopePrefix, address: family === 1 ? formatIPv4(addr) : formatIPv6(addr) };
}
export function encodeClientSubnet(s: ClientSubnet): EdnsOption {
  const addr = s.family === 1 ? parseIPv4(s.address) : parseIPv6(s.address);
  if (!addr) throw new RangeError(`bad CLIENT-SUBNET address ${s.address}`);
  const n = Math.ceil(s.sourcePrefix / 8);
  const data = new Uint8Array(4 + n);
  data[1] = s.family;
  data[2] = s.sourcePrefix;
  data[3] = s.scopePrefix;
  data.set(addr.subarray(0, n), 4);
  // Bits beyond the prefix must be zero (RFC 7871 §6).
  if (s.sourcePrefix % 8 && n > 0) data[3 + n] = data[3 + n]! & (0xff << (8 - (s.sourcePrefix % 8)));
  return { code: EdnsOptionCode.CLIENT_SUBNET, data };
}

/** edns-tcp-keepalive (RFC 7828): timeout in units of 100 ms; absent in queries. */
export function decodeKeepalive(o: EdnsOption): number | undefined {
  if (o.data.length === 0) return undefined;
  if (o.data.length !== 2) throw new WireError('TCP-KEEPALIVE option of bad length', 0);
  return (o.data[0]! << 8) | o.data[1]!;
}
export function encodeKeepalive(timeout?: number): EdnsOption {
  return { code: EdnsOptionCode.TCP_KEEPALIVE, data: timeout === undefined ? new Uint8Array(0) : Uint8Array.of(timeout >> 8, timeout & 0xff) };
}

/** EXPIRE (RFC 7314): seconds, absent in queries. */
export function decodeExpire(o: EdnsOption): number | undefined {
  if (o.data.length === 0) return undefined;
  if (o.data.length !== 4) throw new WireError('EXPIRE option of bad length', 0);
  return Buffer.from(o.data).readUInt32BE(0);
}
export function encodeExpire(seconds?: number): EdnsOption {
  if (seconds === undefined) return { code: EdnsOptionCode.EXPIRE, data: new Uint8Array(0) };
  const data = new Uint8Array(4);
  Buffer.from(data.buffer).writeUInt32BE(seconds >>> 0, 0);
  return { code: EdnsOptionCode.EXPIRE, data };
}

export function encodeNsid(id: Uint8Array | string): EdnsOption {
  return { code: EdnsOptionCode.NSID, data: typeof id === 'string' ? Buffer.from(id, 'utf8') : id };
}

/** PADDING (RFC 7830): `length` zero bytes. */
export function encodePadding(length: number): EdnsOption {
  return { code: EdnsOptionCode.PADDING, data: new Uint8Array(length) };
}
