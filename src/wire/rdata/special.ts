/**
 * Hand-written codecs for the record types whose layout depends on their own content or whose
 * presentation is not a field-per-token: LOC, APL, WKS, IPSECKEY, HIP, AMTRELAY, A6.
 */
import { RRType } from '../constants.js';
import { Name } from '../name.js';
import type { WireReader } from '../reader.js';
import type { Token, Tokens } from '../tokens.js';
import type { WireWriter } from '../writer.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './address.js';
import { nameFromToken } from './text.js';
import { parseUint, registerCodec, type RecordCodec } from './codec.js';
import { base64Decode, base64Encode, hexDecode, hexEncode } from './encoding.js';
import { kinds, mustAddress } from './fields.js';
import { WksProtocol, WksService } from './mnemonics.js';

// ---------------------------------------------------------------- LOC (RFC 1876)

/**
 * LOC. Angles in thousandths of an arc-second (north and east positive); altitude in
 * centimetres above the WGS 84 reference (negative below); size and precisions in centimetres
 * (on the wire they are 4-bit mantissa/exponent pairs, so only values like 1, 30, 10000 m fit).
 */
export interface LocData {
  latitude: number;
  longitude: number;
  altitude: number;
  size: number;
  horizontalPrecision: number;
  verticalPrecision: number;
}

const EQUATOR = 2 ** 31;
const ALT_ZERO = 10_000_000; // 100,000 m below the reference, in cm

function decodePrecision(r: WireReader, what: string): number {
  const at = r.pos;
  const b = r.u8();
  const m = b >> 4;
  const e = b & 0xf;
  if (m > 9 || e > 9) r.fail(`LOC ${what} 0x${b.toString(16)} is not a valid mantissa/exponent`, at);
  return m * 10 ** e;
}

/** Centimetres to the 4-bit mantissa/exponent byte, truncating below the top digit. */
function encodePrecision(cm: number): number {
  let e = 0;
  let v = Math.floor(cm);
  while (v >= 10 && e < 9) {
    v = Math.floor(v / 10);
    e++;
  }
  if (v > 9) throw new RangeError(`LOC size ${cm} cm is too large`);
  return (v << 4) | e;
}

function formatPrecision(cm: number): string {
  return cm % 100 === 0 ? `${cm / 100}m` : `${Math.floor(cm / 100)}.${String(cm % 100).padStart(2, '0')}m`;
}

function formatAngle(v: number, pos: string, neg: string): string {
  const hemi = v < 0 ? neg : pos;
  let a = Math.abs(v);
  const ms = a % 1000;
  a = Math.floor(a / 1000);
  const s = a % 60;
  a = Math.floor(a / 60);
  const m = a % 60;
  const d = Math.floor(a / 60);
  return `${d} ${m} ${s}.${String(ms).padStart(3, '0')} ${hemi}`;
}

/** Parses `[-]123.45[m]` into centimetres. */
function metresToCm(t: Tokens, tok: Token, what: string, allowNegative: boolean): number {
  const m = /^(-?)([0-9]+)(?:\.([0-9]{1,2}))?[mM]?$/.exec(tok.text);
  if (!m || (m[1] && !allowNegative)) throw t.error(tok, `bad LOC ${what} "${tok.text}" (metres, at most 2 decimals)`);
  const cm = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'));
  return m[1] ? -cm : cm;
}

function parseAngle(t: Tokens, pos: string, neg: string, maxDeg: number, what: string): number {
  const degTok = t.next(`${what} degrees`);
  const deg = parseUint(t, degTok, maxDeg, `${what} degrees`);
  let min = 0;
  let ms = 0;
  let tok = t.next(`${what} hemisphere`);
  if (/^[0-9]+$/.test(tok.text)) {
    min = parseUint(t, tok, 59, `${what} minutes`);
    tok = t.next(`${what} hemisphere`);
    const sm = /^([0-9]+)(?:\.([0-9]{1,3}))?$/.exec(tok.text);
    if (sm) {
      const sec = Number(sm[1]);
      if (sec > 59) throw t.error(tok, `${what} seconds ${tok.text} above 59.999`);
      ms = sec * 1000 + Number((sm[2] ?? '').padEnd(3, '0'));
      tok = t.next(`${what} hemisphere`);
    }
  }
  const h = tok.text.toUpperCase();
  if (h !== pos && h !== neg) throw t.error(tok, `expected ${pos} or ${neg}, got "${tok.text}"`);
  const v = ((deg * 60 + min) * 60) * 1000 + ms;
  if (v > maxDeg * 3_600_000) throw t.error(degTok, `${what} beyond ${maxDeg} degrees`);
  return h === neg ? -v : v;
}

export const LOC: RecordCodec<LocData> = {
  type: RRType.LOC,
  fromWire(r) {
    const at = r.pos;
    const version = r.u8();
    if (version !== 0) r.fail(`LOC version ${version} is not 0`, at);
    const size = decodePrecision(r, 'size');
    const horizontalPrecision = decodePrecision(r, 'horizontal precision');
    const verticalPrecision = decodePrecision(r, 'vertical precision');
    const latAt = r.pos;
    const latitude = r.u32() - EQUATOR;
    const longitude = r.u32() - EQUATOR;
    if (Math.abs(latitude) > 90 * 3_600_000) r.fail('LOC latitude beyond 90 degrees', latAt);
    if (Math.abs(longitude) > 180 * 3_600_000) r.fail('LOC longitude beyond 180 degrees', latAt + 4);
    const altitude = r.u32() - ALT_ZERO;
    return { latitude, longitude, altitude, size, horizontalPrecision, verticalPrecision };
  },
  toWire(w, v) {
    w.u8(0);
    w.u8(encodePrecision(v.size));
    w.u8(encodePrecision(v.horizontalPrecision));
    w.u8(encodePrecision(v.verticalPrecision));
    w.u32(v.latitude + EQUATOR);
    w.u32(v.longitude + EQUATOR);
    w.u32(v.altitude + ALT_ZERO);
  },
  fromText(t) {
    const latitude = parseAngle(t, 'N', 'S', 90, 'latitude');
    const longitude = parseAngle(t, 'E', 'W', 180, 'longitude');
    const altTok = t.next('altitude');
    const altitude = metresToCm(t, altTok, 'altitude', true);
    if (altitude < -ALT_ZERO || altitude + ALT_ZERO > 0xffffffff) throw t.error(altTok, 'LOC altitude out of range');
    const prec = (what: string, dflt: number): number => {
      if (t.atEnd) return dflt;
      const tok = t.next(what);
      const cm = metresToCm(t, tok, what, false);
      if (cm > 9e9) throw t.error(tok, `LOC ${what} above 90000000m`);
      return cm;
    };
    const size = prec('size', 100);
    const horizontalPrecision = prec('horizontal precision', 1_000_000);
    const verticalPrecision = prec('vertical precision', 1000);
    // Keep only what the wire form can hold, so text -> data -> text is stable.
    const q = (cm: number): number => {
      const b = encodePrecision(cm);
      return (b >> 4) * 10 ** (b & 0xf);
    };
    return { latitude, longitude, altitude, size: q(size), horizontalPrecision: q(horizontalPrecision), verticalPrecision: q(verticalPrecision) };
  },
  toText(v) {
    const alt = Math.abs(v.altitude);
    const altText = `${v.altitude < 0 ? '-' : ''}${Math.floor(alt / 100)}.${String(alt % 100).padStart(2, '0')}m`;
    return `${formatAngle(v.latitude, 'N', 'S')} ${formatAngle(v.longitude, 'E', 'W')} ${altText} ${formatPrecision(v.size)} ${formatPrecision(v.horizontalPrecision)} ${formatPrecision(v.verticalPrecision)}`;
  },
};
registerCodec(LOC);

// ---------------------------------------------------------------- APL (RFC 3123)

/** One APL item: `[!]family:address/prefix`. Only families 1 (IPv4) and 2 (IPv6) are supported. */
export interface AplItem { family: 1 | 2; prefix: number; negate: boolean; address: string }
export interface AplData { items: AplItem[] }

export const APL: RecordCodec<AplData> = {
  type: RRType.APL,
  fromWire(r) {
    const items: AplItem[] = [];
    while (r.remaining > 0) {
      const at = r.pos;
      const family = r.u16();
      const prefix = r.u8();
      const nlen = r.u8();
      const len = nlen & 0x7f;
      const full = family === 1 ? 4 : family === 2 ? 16 : 0;
      if (!full) r.fail(`APL address family ${family} is not supported`, at);
      if (prefix > full * 8) r.fail(`APL prefix /${prefix} too long for family ${family}`, at);
      if (len > full) r.fail(`APL address part of ${len} bytes too long for family ${family}`, at);
      const addr = new Uint8Array(full);
      addr.set(r.bytes(len));
      items.push({ family: family as 1 | 2, prefix, negate: (nlen & 0x80) !== 0, address: family === 1 ? formatIPv4(addr) : formatIPv6(addr) });
    }
    return { items };
  },
  toWire(w, v) {
    for (const it of v.items) {
      const addr = mustAddress(it.family === 1 ? parseIPv4(it.address) : parseIPv6(it.address), it.address);
      let len = addr.length;
      while (len > 0 && addr[len - 1] === 0) len--; // RFC 3123 §4: no trailing zero octets
      w.u16(it.family);
      w.u8(it.prefix);
      w.u8((it.negate ? 0x80 : 0) | len);
      w.bytes(addr.subarray(0, len));
    }
  },
  fromText(t) {
    const items: AplItem[] = [];
    for (const tok of t.rest()) {
      const m = /^(!?)([12]):([^/]+)\/([0-9]{1,3})$/.exec(tok.text);
      if (!m) throw t.error(tok, `"${tok.text}" is not an APL item ([!]1:ipv4/prefix or [!]2:ipv6/prefix)`);
      const family = Number(m[2]) as 1 | 2;
      const addr = family === 1 ? parseIPv4(m[3]!) : parseIPv6(m[3]!);
      if (!addr) throw t.error(tok, `"${m[3]}" is not an IPv${family === 1 ? 4 : 6} address`);
      const prefix = Number(m[4]);
      if (prefix > addr.length * 8) throw t.error(tok, `prefix /${prefix} too long`);
      items.push({ family, prefix, negate: m[1] === '!', address: family === 1 ? formatIPv4(addr) : formatIPv6(addr) });
    }
    return { items };
  },
  toText: (v) => v.items.map((it) => `${it.negate ? '!' : ''}${it.family}:${it.address}/${it.prefix}`).join(' '),
};
registerCodec(APL);

// ---------------------------------------------------------------- WKS (RFC 1035 §3.4.2)

/** WKS: address, IP protocol number and the open ports, sorted. */
export interface WksData { address: string; protocol: number; ports: number[] }

export const WKS: RecordCodec<WksData> = {
  type: RRType.WKS,
  fromWire(r) {
    const address = formatIPv4(r.bytes(4));
    const protocol = r.u8();
    const bits = r.rest();
    if (bits.length > 8192) r.fail('WKS bitmap longer than 8192 bytes');
    const ports: number[] = [];
    for (let i = 0; i < bits.length; i++) for (let b = 0; b < 8; b++) if (bits[i]! & (0x80 >> b)) ports.push(i * 8 + b);
    return { address, protocol, ports };
  },
  toWire(w, v) {
    w.bytes(mustAddress(parseIPv4(v.address), v.address));
    w.u8(v.protocol);
    if (v.ports.length === 0) return;
    const bits = new Uint8Array((Math.max(...v.ports) >> 3) + 1);
    for (const p of v.ports) bits[p >> 3]! |= 0x80 >> (p & 7);
    w.bytes(bits);
  },
  fromText(t, origin) {
    const address = kinds.ipv4.parse(t, origin);
    const protoTok = t.next('protocol');
    const protocol = /^[0-9]+$/.test(protoTok.text) ? parseUint(t, protoTok, 255, 'protocol') : WksProtocol[protoTok.text.toUpperCase()];
    if (protocol === undefined) throw t.error(protoTok, `unknown protocol "${protoTok.text}" (use tcp, udp or a number)`);
    const ports = new Set<number>();
    for (const tok of t.rest()) {
      const p = /^[0-9]+$/.test(tok.text) ? parseUint(t, tok, 65535, 'port') : WksService[tok.text.toLowerCase()];
      if (p === undefined) throw t.error(tok, `unknown service "${tok.text}" (use a port number)`);
      ports.add(p);
    }
    return { address, protocol, ports: [...ports].sort((a, b) => a - b) };
  },
  toText: (v) => [v.address, String(v.protocol), ...v.ports.map(String)].join(' '),
};
registerCodec(WKS);

// ---------------------------------------------------------------- gateways (IPSECKEY, AMTRELAY)

/** Gateway/relay by type: 0 none (`null`), 1 IPv4 text, 2 IPv6 text, 3 a `Name`. */
export type Gateway = null | string | Name;

function readGateway(r: WireReader, type: number, what: string): Gateway {
  switch (type) {
    case 0: return null;
    case 1: return formatIPv4(r.bytes(4));
    case 2: return formatIPv6(r.bytes(16));
    case 3: return r.name();
    default: return r.fail(`${what} type ${type} unknown`);
  }
}

function writeGateway(w: WireWriter, type: number, g: Gateway): void {
  if (type === 0) return;
  if (type === 3) w.name(g as Name, false, false);
  else w.bytes(mustAddress(type === 1 ? parseIPv4(g as string) : parseIPv6(g as string), String(g)));
}

function parseGateway(t: Tokens, type: number, origin: Name, what: string): Gateway {
  const tok = t.next(what);
  switch (type) {
    case 0:
      if (tok.text !== '.') throw t.error(tok, `${what} must be "." when its type is 0`);
      return null;
    case 1: {
      const b = parseIPv4(tok.text);
      if (!b) throw t.error(tok, `"${tok.text}" is not an IPv4 address`);
      return formatIPv4(b);
    }
    case 2: {
      const b = parseIPv6(tok.text);
      if (!b) throw t.error(tok, `"${tok.text}" is not an IPv6 address`);
      return formatIPv6(b);
    }
    case 3: return nameFromToken(t, tok, origin);
    default: throw t.error(tok, `${what} type ${type} unknown`);
  }
}

const gatewayText = (g: Gateway): string => (g === null ? '.' : g.toString());

/** IPSECKEY (RFC 4025). */
export interface IpseckeyData { precedence: number; gatewayType: number; algorithm: number; gateway: Gateway; publicKey: Uint8Array }

export const IPSECKEY: RecordCodec<IpseckeyData> = {
  type: RRType.IPSECKEY,
  fromWire(r) {
    const precedence = r.u8();
    const gatewayType = r.u8();
    const algorithm = r.u8();
    const gateway = readGateway(r, gatewayType, 'IPSECKEY gateway');
    return { precedence, gatewayType, algorithm, gateway, publicKey: r.rest() };
  },
  toWire(w, v) {
    w.u8(v.precedence);
    w.u8(v.gatewayType);
    w.u8(v.algorithm);
    writeGateway(w, v.gatewayType, v.gateway);
    w.bytes(v.publicKey);
  },
  fromText(t, origin) {
    const precedence = parseUint(t, t.next('precedence'), 255, 'precedence');
    const gatewayType = parseUint(t, t.next('gateway type'), 255, 'gateway type');
    const algorithm = parseUint(t, t.next('algorithm'), 255, 'algorithm');
    const gateway = parseGateway(t, gatewayType, origin, 'gateway');
    return { precedence, gatewayType, algorithm, gateway, publicKey: t.atEnd ? new Uint8Array(0) : kinds.base64.parse(t, origin) };
  },
  toText: (v) => `${v.precedence} ${v.gatewayType} ${v.algorithm} ${gatewayText(v.gateway)}${v.publicKey.length ? ' ' + base64Encode(v.publicKey) : ''}`,
};
registerCodec(IPSECKEY);

/** AMTRELAY (RFC 8777): `discoveryOptional` is the D bit. */
export interface AmtrelayData { precedence: number; discoveryOptional: boolean; relayType: number; relay: Gateway }

export const AMTRELAY: RecordCodec<AmtrelayData> = {
  type: RRType.AMTRELAY,
  fromWire(r) {
    const precedence = r.u8();
    const b = r.u8();
    const relayType = b & 0x7f;
    return { precedence, discoveryOptional: (b & 0x80) !== 0, relayType, relay: readGateway(r, relayType, 'AMTRELAY relay') };
  },
  toWire(w, v) {
    w.u8(v.precedence);
    w.u8((v.discoveryOptional ? 0x80 : 0) | v.relayType);
    writeGateway(w, v.relayType, v.relay);
  },
  fromText(t, origin) {
    const precedence = parseUint(t, t.next('precedence'), 255, 'precedence');
    const dTok = t.next('discovery-optional bit');
    if (dTok.text !== '0' && dTok.text !== '1') throw t.error(dTok, 'discovery-optional bit must be 0 or 1');
    const relayType = parseUint(t, t.next('relay type'), 127, 'relay type');
    const relay = parseGateway(t, relayType, origin, 'relay');
    return { precedence, discoveryOptional: dTok.text === '1', relayType, relay };
  },
  toText: (v) => `${v.precedence} ${v.discoveryOptional ? 1 : 0} ${v.relayType} ${gatewayText(v.relay)}`,
};
registerCodec(AMTRELAY);

// ---------------------------------------------------------------- HIP (RFC 8005)

/** HIP: host identity tag, public key and rendezvous servers (names never compressed). */
export interface HipData { algorithm: number; hit: Uint8Array; publicKey: Uint8Array; rendezvousServers: Name[] }

export const HIP: RecordCodec<HipData> = {
  type: RRType.HIP,
  fromWire(r) {
    const hitLength = r.u8();
    const algorithm = r.u8();
    const pkLength = r.u16();
    if (hitLength === 0) r.fail('HIP with an empty HIT');
    const hit = r.bytes(hitLength);
    const publicKey = r.bytes(pkLength);
    const rendezvousServers: Name[] = [];
    while (r.remaining > 0) rendezvousServers.push(r.name());
    return { algorithm, hit, publicKey, rendezvousServers };
  },
  toWire(w, v) {
    w.u8(v.hit.length);
    w.u8(v.algorithm);
    w.u16(v.publicKey.length);
    w.bytes(v.hit);
    w.bytes(v.publicKey);
    for (const n of v.rendezvousServers) w.name(n, false, false);
  },
  fromText(t, origin) {
    const algorithm = parseUint(t, t.next('public key algorithm'), 255, 'public key algorithm');
    const hitTok = t.next('HIT');
    const hit = hexDecode(hitTok.text);
    if (!hit || hit.length === 0 || hit.length > 255) throw t.error(hitTok, 'HIT must be 1..255 bytes of hex');
    const pkTok = t.next('public key');
    const publicKey = base64Decode(pkTok.text);
    if (!publicKey || publicKey.length === 0) throw t.error(pkTok, 'bad base64 public key');
    const rendezvousServers = t.rest().map((tok) => nameFromToken(t, tok, origin));
    return { algorithm, hit, publicKey, rendezvousServers };
  },
  toText: (v) => [String(v.algorithm), hexEncode(v.hit), base64Encode(v.publicKey), ...v.rendezvousServers.map(String)].join(' '),
};
registerCodec(HIP);

// ---------------------------------------------------------------- A6 (RFC 2874, historic)

/** A6: prefix length, the address suffix (as IPv6 text, prefix bits zero) and the prefix name. */
export interface A6Data { prefixLength: number; suffix: string; prefixName?: Name }

export const A6: RecordCodec<A6Data> = {
  type: RRType.A6,
  fromWire(r) {
    const at = r.pos;
    const prefixLength = r.u8();
    if (prefixLength > 128) r.fail(`A6 prefix length ${prefixLength} above 128`, at);
    const n = 16 - Math.floor(prefixLength / 8);
    const addr = new Uint8Array(16);
    addr.set(r.bytes(prefixLength === 128 ? 0 : n), 16 - (prefixLength === 128 ? 0 : n));
    const prefixName = prefixLength > 0 ? r.name() : undefined;
    return prefixName ? { prefixLength, suffix: formatIPv6(addr), prefixName } : { prefixLength, suffix: formatIPv6(addr) };
  },
  toWire(w, v, canonical) {
    w.u8(v.prefixLength);
    const addr = mustAddress(parseIPv6(v.suffix), v.suffix);
    if (v.prefixLength < 128) w.bytes(addr.subarray(Math.floor(v.prefixLength / 8)));
    if (v.prefixLength > 0) w.name(v.prefixName ?? Name.root, false, canonical);
  },
  fromText(t, origin) {
    const plTok = t.next('prefix length');
    const prefixLength = parseUint(t, plTok, 128, 'prefix length');
    let suffix = '::';
    if (prefixLength < 128) {
      const tok = t.next('address suffix');
      const b = parseIPv6(tok.text);
      if (!b) throw t.error(tok, `"${tok.text}" is not an IPv6 address`);
      suffix = formatIPv6(b);
    }
    if (prefixLength === 0) return { prefixLength, suffix };
    return { prefixLength, suffix, prefixName: nameFromToken(t, t.next('prefix name'), origin) };
  },
  toText: (v) => [String(v.prefixLength), ...(v.prefixLength < 128 ? [v.suffix] : []), ...(v.prefixName ? [v.prefixName.toString()] : [])].join(' '),
};
registerCodec(A6);

// ---------------------------------------------------------------- ATMA (ATM Forum af-dans-0152)

/** ATMA: format 0 is an AESA (20 bytes, shown as hex), format 1 an E.164 number (`+` and digits). */
export interface AtmaData { format: 0 | 1; address: Uint8Array }

export const ATMA: RecordCodec<AtmaData> = {
  type: RRType.ATMA,
  fromWire(r) {
    const at = r.pos;
    const format = r.u8();
    if (format > 1) r.fail(`ATMA format ${format} unknown`, at);
    const address = r.rest();
    if (format === 1 && !/^[0-9]+$/.test(String.fromCharCode(...address))) r.fail('ATMA E.164 address is not digits', at);
    return { format: format as 0 | 1, address };
  },
  toWire(w, v) {
    w.u8(v.format);
    w.bytes(v.address);
  },
  fromText(t) {
    const tok = t.next('ATM address');
    const s = tok.text.replace(/\./g, '');
    if (s.startsWith('+')) {
      if (!/^\+[0-9]+$/.test(s)) throw t.error(tok, `"${tok.text}" is not an E.164 number`);
      return { format: 1, address: Uint8Array.from(s.slice(1), (c) => c.charCodeAt(0)) };
    }
    const b = hexDecode(s);
    if (!b || b.length === 0) throw t.error(tok, `"${tok.text}" is not an AESA (hex) or E.164 (+digits) address`);
    return { format: 0, address: b };
  },
  toText: (v) => (v.format === 1 ? '+' + String.fromCharCode(...v.address) : hexEncode(v.address)),
};
registerCodec(ATMA);
