/**
 * SVCB and HTTPS (RFC 9460): priority, target and SvcParams. Params are kept as wire bytes per
 * key, strictly increasing by key, so any value round-trips; the known keys are checked in both
 * directions and have typed accessors (`svcbAlpn`, `svcbPort`, ...).
 */
import { RRType } from '../constants.js';
import type { Name } from '../name.js';
import type { WireReader } from '../reader.js';
import type { Token, Tokens } from '../tokens.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './address.js';
import { nameFromToken } from './text.js';
import { charStringToText, parseUint, registerCodec, unescapeText, type RecordCodec } from './codec.js';
import { base64Decode, base64Encode } from './encoding.js';

/** SvcParamKeys (IANA "Service Parameter Keys"). */
export const SvcParamKey = {
  mandatory: 0, alpn: 1, 'no-default-alpn': 2, port: 3, ipv4hint: 4, ech: 5, ipv6hint: 6, dohpath: 7, ohttp: 8,
} as const;

const keyNames = new Map<number, string>(Object.entries(SvcParamKey).map(([k, v]) => [v, k]));

/** One SvcParam: key number and its wire value. */
export interface SvcParam { key: number; value: Uint8Array }

/** SVCB/HTTPS data. Priority 0 is AliasMode. `params` are sorted by key, no duplicates. */
export interface SvcbData { priority: number; target: Name; params: SvcParam[] }

export function svcParamKeyToString(key: number): string {
  return keyNames.get(key) ?? `key${key}`;
}

export function svcParamKeyFromString(text: string): number | undefined {
  const known = (SvcParamKey as Record<string, number>)[text.toLowerCase()];
  if (known !== undefined) return known;
  const m = /^key([0-9]{1,5})$/.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]);
  return v < 65535 ? v : undefined; // 65535 is reserved ("Invalid key")
}

/**
 * Checks a value against its key's rules (RFC 9460 §7, RFC 9461, RFC 9540). Returns a
 * reason when malformed.
 */
export function svcParamProblem(key: number, v: Uint8Array): string | undefined {
  switch (key) {
    case SvcParamKey.mandatory: {
      if (v.length === 0 || v.length % 2) return 'mandatory must list one or more keys';
      let last = -1;
      for (let i = 0; i < v.length; i += 2) {
        const k = (v[i]! << 8) | v[i + 1]!;
        if (k === SvcParamKey.mandatory) return 'mandatory must not list itself';
        if (k <= last) return 'mandatory keys must be strictly increasing';
        last = k;
      }
      return undefined;
    }
    case SvcParamKey.alpn: {
      if (v.length === 0) return 'alpn must list one or more protocols';
      for (let i = 0; i < v.length; ) {
        const n = v[i]!;
        if (n === 0) return 'alpn has an empty protocol id';
        i += 1 + n;
        if (i > v.length) return 'alpn protocol id runs past the value';
      }
      return undefined;
    }
    case SvcParamKey['no-default-alpn']:
    case SvcParamKey.ohttp:
      return v.length === 0 ? undefined : `${svcParamKeyToString(key)} must have no value`;
    case SvcParamKey.port:
      return v.length === 2 ? undefined : 'port must be 2 bytes';
    case SvcParamKey.ipv4hint:
      return v.length > 0 && v.length % 4 === 0 ? undefined : 'ipv4hint must hold one or more IPv4 addresses';
    case SvcParamKey.ipv6hint:
      return v.length > 0 && v.length % 16 === 0 ? undefined : 'ipv6hint must hold one or more IPv6 addresses';
    default:
      return key === 65535 ? 'key65535 is reserved' : undefined;
  }
}

function readParams(r: WireReader): SvcParam[] {
  const params: SvcParam[] = [];
  let last = -1;
  while (r.remaining > 0) {
    const at = r.pos;
    const key = r.u16();
    const len = r.u16();
    if (key <= last) r.fail('SvcParamKeys not in strictly increasing order', at);
    const value = r.bytes(len);
    const problem = svcParamProblem(key, value);
    if (problem) r.fail(problem, at);
    params.push({ key, value });
    last = key;
  }
  return params;
}

// ---- presentation ----

/** Splits a decoded value-list at unescaped commas, resolving `\,` and `\\` (RFC 9460 App. A.1). */
function splitValueList(b: Uint8Array): Uint8Array[] | undefined {
  const items: Uint8Array[] = [];
  let cur: number[] = [];
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x5c) {
      if (i + 1 >= b.length) return undefined;
      cur.push(b[++i]!);
    } else if (c === 0x2c) {
      items.push(Uint8Array.from(cur));
      cur = [];
    } else cur.push(c);
  }
  items.push(Uint8Array.from(cur));
  return items;
}

const ascii = (b: Uint8Array): string => String.fromCharCode(...b);

function valueFromText(t: Tokens, tok: Token, key: number, raw: Uint8Array | undefined): Uint8Array {
  const fail = (why: string): never => {
    throw t.error(tok, why);
  };
  const name = svcParamKeyToString(key);
  if (key === SvcParamKey['no-default-alpn'] || key === SvcParamKey.ohttp) {
    if (raw !== undefined) fail(`${name} takes no value`);
    return new Uint8Array(0);
  }
  if (raw === undefined) {
    if (key === SvcParamKey.mandatory || key === SvcParamKey.alpn || key === SvcParamKey.port || key === SvcParamKey.ipv4hint || key === SvcParamKey.ipv6hint) {
      fail(`${name} needs a value`);
    }
    return new Uint8Array(0);
  }
  switch (key) {
    case SvcParamKey.mandatory: {
      const keys: number[] = [];
      for (const item of ascii(raw).split(',')) {
        const k = svcParamKeyFromString(item);
        if (k === undefined) fail(`unknown key "${item}" in mandatory`);
        if (k === SvcParamKey.mandatory) fail('mandatory must not list itself');
        if (keys.includes(k!)) fail(`key "${item}" listed twice in mandatory`);
        keys.push(k!);
      }
      keys.sort((a, b) => a - b);
      const out = new Uint8Array(keys.length * 2);
      keys.forEach((k, i) => {
        out[i * 2] = k >> 8;
        out[i * 2 + 1] = k & 0xff;
      });
      return out;
    }
    case SvcParamKey.alpn: {
      const items = splitValueList(raw);
      if (!items) fail('alpn value ends in a backslash');
      const out: number[] = [];
      for (const id of items!) {
        if (id.length === 0 || id.length > 255) fail('alpn protocol ids must be 1..255 bytes');
        out.push(id.length, ...id);
      }
      return Uint8Array.from(out);
    }
    case SvcParamKey.port: {
      const s = ascii(raw);
      if (!/^[0-9]{1,5}$/.test(s) || Number(s) > 65535) fail(`port "${s}" is not a number 0..65535`);
      return Uint8Array.of(Number(s) >> 8, Number(s) & 0xff);
    }
    case SvcParamKey.ipv4hint:
    case SvcParamKey.ipv6hint: {
      const v4 = key === SvcParamKey.ipv4hint;
      const parts = ascii(raw).split(',');
      const out = new Uint8Array(parts.length * (v4 ? 4 : 16));
      parts.forEach((p, i) => {
        const b = v4 ? parseIPv4(p) : parseIPv6(p);
        if (!b) fail(`"${p}" is not an IPv${v4 ? 4 : 6} address`);
        out.set(b!, i * b!.length);
      });
      return out;
    }
    case SvcParamKey.ech: {
      const b = base64Decode(ascii(raw));
      if (!b) fail('ech must be base64');
      return b!;
    }
    default:
      return raw;
  }
}

/** Escapes `,` and `\` inside one value-list item (before char-string escaping). */
function escapeItem(b: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (const c of b) {
    if (c === 0x2c || c === 0x5c) out.push(0x5c);
    out.push(c);
  }
  return Uint8Array.from(out);
}

function valueToText(key: number, v: Uint8Array): string {
  switch (key) {
    case SvcParamKey.mandatory: {
      const names: string[] = [];
      for (let i = 0; i + 1 < v.length; i += 2) names.push(svcParamKeyToString((v[i]! << 8) | v[i + 1]!));
      return names.join(',');
    }
    case SvcParamKey.alpn: {
      const items: number[][] = [];
      for (let i = 0; i < v.length; ) {
        const n = v[i]!;
        items.push([...escapeItem(v.subarray(i + 1, i + 1 + n))]);
        i += 1 + n;
      }
      const joined: number[] = [];
      items.forEach((it, i) => {
        if (i) joined.push(0x2c);
        joined.push(...it);
      });
      return charStringToText(Uint8Array.from(joined));
    }
    case SvcParamKey.port:
      return String((v[0]! << 8) | v[1]!);
    case SvcParamKey.ipv4hint: {
      const out: string[] = [];
      for (let i = 0; i < v.length; i += 4) out.push(formatIPv4(v, i));
      return out.join(',');
    }
    case SvcParamKey.ipv6hint: {
      const out: string[] = [];
      for (let i = 0; i < v.length; i += 16) out.push(formatIPv6(v, i));
      return out.join(',');
    }
    case SvcParamKey.ech:
      return base64Encode(v);
    default:
      return charStringToText(v);
  }
}

export function svcbCodec(type: number): RecordCodec<SvcbData> {
  return {
    type,
    fromWire(r) {
      const priority = r.u16();
      const target = r.name();
      return { priority, target, params: readParams(r) };
    },
    toWire(w, v) {
      w.u16(v.priority);
      w.name(v.target, false, false);
      const sorted = [...v.params].sort((a, b) => a.key - b.key);
      for (const p of sorted) {
        w.u16(p.key);
        w.u16(p.value.length);
        w.bytes(p.value);
      }
    },
    fromText(t, origin) {
      const priority = parseUint(t, t.next('priority'), 0xffff, 'priority');
      const target = nameFromToken(t, t.next('target name'), origin);
      const params: SvcParam[] = [];
      const where = new Map<number, Token>();
      while (!t.atEnd) {
        const tok = t.next('SvcParam');
        if (tok.quoted) throw t.error(tok, 'expected key=value, got a quoted string');
        const eq = tok.text.indexOf('=');
        const keyText = eq < 0 ? tok.text : tok.text.slice(0, eq);
        const key = svcParamKeyFromString(keyText);
        if (key === undefined) throw t.error(tok, `unknown SvcParamKey "${keyText}"`);
        if (where.has(key)) throw t.error(tok, `SvcParamKey "${keyText}" appears twice`);
        let raw: Uint8Array | undefined;
        if (eq >= 0) {
          let valueText = tok.text.slice(eq + 1);
          let valueQuoted = false;
          // `key="quoted value"`: the tokenizer splits at the quote.
          const next = t.peek();
          if (valueText === '' && next?.quoted) {
            valueText = t.next('value').text;
            valueQuoted = true;
          }
          raw = unescapeText(t, { ...tok, text: valueText });
          if (raw.length === 0 && !valueQuoted && key !== SvcParamKey.dohpath && key < 8) raw = undefined;
        }
        const value = valueFromText(t, tok, key, raw);
        const problem = svcParamProblem(key, value);
        if (problem) throw t.error(tok, problem);
        where.set(key, tok);
        params.push({ key, value });
      }
      params.sort((a, b) => a.key - b.key);
      // Self-consistency (RFC 9460 §2.4.3, §7.1.1, §8).
      const mandatory = params.find((p) => p.key === SvcParamKey.mandatory);
      if (mandatory) {
        for (let i = 0; i < mandatory.value.length; i += 2) {
          const k = (mandatory.value[i]! << 8) | mandatory.value[i + 1]!;
          if (!where.has(k)) throw t.error(where.get(SvcParamKey.mandatory), `mandatory key "${svcParamKeyToString(k)}" is missing`);
        }
      }
      if (where.has(SvcParamKey['no-default-alpn']) && !where.has(SvcParamKey.alpn)) {
        throw t.error(where.get(SvcParamKey['no-default-alpn']), 'no-default-alpn needs alpn');
      }
      return { priority, target, params };
    },
    toText(v) {
      const parts = [String(v.priority), v.target.toString()];
      for (const p of v.params) {
        const k = svcParamKeyToString(p.key);
        if ((p.key === SvcParamKey['no-default-alpn'] || p.key === SvcParamKey.ohttp) && p.value.length === 0) parts.push(k);
        else if (svcParamProblem(p.key, p.value)) parts.push(`key${p.key}=${charStringToText(p.value)}`);
        else parts.push(`${k}=${valueToText(p.key, p.value)}`);
      }
      return parts.join(' ');
    },
  };
}

export const SVCB = svcbCodec(RRType.SVCB);
export const HTTPS = svcbCodec(RRType.HTTPS);
registerCodec(SVCB);
registerCodec(HTTPS);

// ---- typed accessors ----

function param(d: SvcbData, key: number): Uint8Array | undefined {
  return d.params.find((p) => p.key === key)?.value;
}

/** ALPN protocol ids as strings (latin-1), or undefined when absent. */
export function svcbAlpn(d: SvcbData): string[] | undefined {
  const v = param(d, SvcParamKey.alpn);
  if (!v) return undefined;
  const out: string[] = [];
  for (let i = 0; i < v.length; i += 1 + v[i]!) out.push(ascii(v.subarray(i + 1, i + 1 + v[i]!)));
  return out;
}

export function svcbPort(d: SvcbData): number | undefined {
  const v = param(d, SvcParamKey.port);
  return v && v.length === 2 ? (v[0]! << 8) | v[1]! : undefined;
}

export function svcbIpv4Hint(d: SvcbData): string[] {
  const v = param(d, SvcParamKey.ipv4hint) ?? new Uint8Array(0);
  const out: string[] = [];
  for (let i = 0; i + 4 <= v.length; i += 4) out.push(formatIPv4(v, i));
  return out;
}

export function svcbIpv6Hint(d: SvcbData): string[] {
  const v = param(d, SvcParamKey.ipv6hint) ?? new Uint8Array(0);
  const out: string[] = [];
  for (let i = 0; i + 16 <= v.length; i += 16) out.push(formatIPv6(v, i));
  return out;
}
