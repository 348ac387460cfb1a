import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Name, recordFromText, RRClass, RRType, TextError, type ResourceRecord } from '../wire/index.js';
import { generateSigningKey, importRawPrivateKey, publicKeyField, supportedAlgorithm, type SigningKey } from './crypto.js';
import { keyTag } from './keytag.js';
import { dnskeyOf } from './sign.js';
import { Algorithm, DnskeyFlags, type DnskeyData } from './types.js';

/**
 * DNSSEC key pairs on disk in BIND's format (`K<zone>+<alg>+<tag>.key` / `.private`, as written
 * by `dnssec-keygen`), so keys move between BIND, Knot's `keymgr import-bind` and Portcullis.
 */

/** BIND key timing metadata (seconds since 1970). Absent means "not scheduled". */
export interface KeyTiming {
  created?: number;
  /** DNSKEY goes into the zone from this time. */
  publish?: number;
  /** The key signs from this time. */
  activate?: number;
  /** The key stops signing. */
  inactive?: number;
  /** DNSKEY leaves the zone. */
  delete?: number;
  /** CDS/CDNSKEY for this key are published from this time (BIND `SyncPublish`). */
  syncPublish?: number;
  /** CDS/CDNSKEY are withdrawn (BIND `SyncDelete`). */
  syncDelete?: number;
  /** The REVOKE bit is set from this time (RFC 5011; BIND `Revoke`). Kept, not acted on. */
  revoke?: number;
  /** The parent was seen publishing this key's DS (BIND `DSPublish`, `rndc dnssec -checkds published`). */
  dsPublish?: number;
  /** The parent was seen withdrawing this key's DS (BIND `DSDelete`). */
  dsDelete?: number;
}

/** A zone key: the key pair, its DNSKEY, role and timing. */
export interface ZoneKey {
  readonly zone: Name;
  readonly key: SigningKey;
  readonly dnskey: DnskeyData;
  readonly tag: number;
  /** SEP bit set: a key-signing key (or a combined signing key when no ZSK signs). */
  readonly ksk: boolean;
  readonly timing: KeyTiming;
  /** Base file name without extension (`Kexample.test.+013+12345`). */
  readonly base: string;
}

export class KeyFileError extends Error {
  constructor(readonly file: string, readonly line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'KeyFileError';
  }
}

const ALG_NAMES: Record<number, string> = {
  [Algorithm.RSASHA256]: 'RSASHA256',
  [Algorithm.RSASHA512]: 'RSASHA512',
  [Algorithm.ECDSAP256SHA256]: 'ECDSAP256SHA256',
  [Algorithm.ECDSAP384SHA384]: 'ECDSAP384SHA384',
  [Algorithm.ED25519]: 'ED25519',
  [Algorithm.ED448]: 'ED448',
};

/** Algorithms we can keep keys for (RSA/SHA-1 variants are not generated: RFC 8624 says MUST NOT sign). */
export function keyAlgorithmSupported(alg: number): boolean {
  return alg in ALG_NAMES;
}

/** BIND's file base name: `K` + zone (no trailing dot, root is `.`) + `+AAA+TTTTT`. */
export function keyBaseName(zone: Name, algorithm: number, tag: number): string {
  const z = zone.isRoot ? '.' : zone.toString().slice(0, -1).toLowerCase();
  return `K${z}.+${String(algorithm).padStart(3, '0')}+${String(tag).padStart(5, '0')}`;
}

export function makeZoneKey(zone: Name, key: SigningKey, ksk: boolean, timing: KeyTiming = {}): ZoneKey {
  const dnskey = dnskeyOf(key, ksk);
  const tag = keyTag(dnskey);
  return { zone, key, dnskey, tag, ksk, timing, base: keyBaseName(zone, key.algorithm, tag) };
}

/** Generates a key pair (RSA: 2048 bits, as RFC 8624 and BIND's default). */
export function generateZoneKey(zone: Name, algorithm: number, ksk: boolean, now: number, rsaBits = 2048): ZoneKey {
  if (!keyAlgorithmSupported(algorithm)) throw new RangeError(`cannot generate keys for algorithm ${algorithm}`);
  const key = generateSigningKey(algorithm, rsaBits);
  return makeZoneKey(zone, key, ksk, { created: now, publish: now, activate: now });
}

// ---- time stamps ----

/** `YYYYMMDDHHMMSS` in UTC, as BIND writes timing metadata. */
export function bindTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

export function parseBindTime(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!m) return /^\d+$/.test(text) && text.length < 14 ? Number(text) : undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

const TIMING_FIELDS: Array<[keyof KeyTiming, string]> = [
  ['created', 'Created'], ['publish', 'Publish'], ['activate', 'Activate'], ['inactive', 'Inactive'],
  ['delete', 'Delete'], ['syncPublish', 'SyncPublish'], ['syncDelete', 'SyncDelete'], ['revoke', 'Revoke'],
  ['dsPublish', 'DSPublish'], ['dsDelete', 'DSDelete'],
];

// ---- writing ----

const b64 = (b: Uint8Array | Buffer): string => Buffer.from(b).toString('base64');

/** The `.key` file: comments as dnssec-keygen writes them, then the DNSKEY record. */
export function keyFileText(k: ZoneKey, ttl?: number): string {
  const lines = [
    `; This is a ${k.ksk ? 'key-signing' : 'zone-signing'} key, keyid ${k.tag}, for ${k.zone.toString()}`,
  ];
  for (const [field, label] of TIMING_FIELDS) {
    const t = k.timing[field];
    if (t !== undefined) lines.push(`; ${label}: ${bindTime(t)} (${new Date(t * 1000).toUTCString()})`);
  }
  const d = k.dnskey;
  lines.push(`${k.zone.toString()} ${ttl !== undefined ? `${ttl} ` : ''}IN DNSKEY ${d.flags} ${d.protocol} ${d.algorithm} ${b64(d.publicKey)}`);
  return lines.join('\n') + '\n';
}

/** The `.private` file, `Private-key-format: v1.3`, fields as BIND writes them. */
export function privateFileText(k: ZoneKey): string {
  const alg = k.key.algorithm;
  const lines = ['Private-key-format: v1.3', `Algorithm: ${alg} (${ALG_NAMES[alg] ?? 'UNKNOWN'})`];
  const jwk = k.key.privateKey.export({ format: 'jwk' });
  const f = (s: string | undefined): string => b64(Buffer.from(s ?? '', 'base64url'));
  if (alg === Algorithm.RSASHA256 || alg === Algorithm.RSASHA512) {
    lines.push(
      `Modulus: ${f(jwk.n)}`, `PublicExponent: ${f(jwk.e)}`, `PrivateExponent: ${f(jwk.d)}`, `Prime1: ${f(jwk.p)}`,
      `Prime2: ${f(jwk.q)}`, `Exponent1: ${f(jwk.dp)}`, `Exponent2: ${f(jwk.dq)}`, `Coefficient: ${f(jwk.qi)}`,
    );
  } else if (alg === Algorithm.ECDSAP256SHA256 || alg === Algorithm.ECDSAP384SHA384) {
    const size = alg === Algorithm.ECDSAP256SHA256 ? 32 : 48;
    let d = Buffer.from(jwk.d ?? '', 'base64url');
    if (d.length < size) d = Buffer.concat([Buffer.alloc(size - d.length), d]);
    lines.push(`PrivateKey: ${b64(d)}`);
  } else {
    // EdDSA: the private key is the seed (RFC 8080 §3), the JWK `d`.
    lines.push(`PrivateKey: ${f(jwk.d)}`);
  }
  for (const [field, label] of TIMING_FIELDS) {
    const t = k.timing[field];
    if (t !== undefined) lines.push(`${label}: ${bindTime(t)}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Writes `<dir>/<base>.key` (0644) and `<dir>/<base>.private` (0600: the private key is the
 * zone's identity). Creates `dir` (0700) when missing. Returns the two paths.
 */
export function saveKey(dir: string, k: ZoneKey, ttl?: number): { keyFile: string; privateFile: string } {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = join(dir, `${k.base}.key`);
  const privateFile = join(dir, `${k.base}.private`);
  // Written beside and renamed over: a running server re-reads key files (rollover timing,
  // `dnssec ds-seen`) and must never see half a file.
  const tmpPrivate = `${privateFile}.${process.pid}.tmp`;
  writeFileSync(tmpPrivate, privateFileText(k), { mode: 0o600 });
  // writeFileSync keeps the mode of an existing file; make sure the private half is private.
  chmodSync(tmpPrivate, 0o600);
  renameSync(tmpPrivate, privateFile);
  const tmpKey = `${keyFile}.${process.pid}.tmp`;
  writeFileSync(tmpKey, keyFileText(k, ttl), { mode: 0o644 });
  renameSync(tmpKey, keyFile);
  return { keyFile, privateFile };
}

// ---- reading ----

/** Parses a `.key` file: comment lines skipped, one DNSKEY (or old-style KEY) record. */
export function parseKeyFile(text: string, file = '<key>'): { owner: Name; dnskey: DnskeyData; timing: KeyTiming } {
  const timing: KeyTiming = {};
  let found: { owner: Name; dnskey: DnskeyData } | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    if (line.startsWith(';')) {
      const m = /^;\s*(\w+):\s*(\d{14})/.exec(line);
      if (m) {
        const field = TIMING_FIELDS.find(([, label]) => label === m[1]);
        if (field) timing[field[0]] = parseBindTime(m[2]!);
      }
      continue;
    }
    if (found) throw new KeyFileError(file, i + 1, 'more than one record in a key file');
    let rr: ResourceRecord;
    try {
      rr = recordFromText(line);
    } catch (e) {
      throw new KeyFileError(file, i + 1, e instanceof TextError ? e.reason : (e as Error).message);
    }
    if ((rr.type !== RRType.DNSKEY && rr.type !== RRType.KEY) || rr.class !== RRClass.IN || rr.data instanceof Uint8Array) {
      throw new KeyFileError(file, i + 1, 'expected an IN DNSKEY record');
    }
    found = { owner: rr.name, dnskey: rr.data as DnskeyData };
  }
  if (!found) throw new KeyFileError(file, 1, 'no DNSKEY record');
  return { ...found, timing };
}

/** Parses a `.private` file into a signing key for `dnskey` (checked to belong together). */
export function parsePrivateFile(text: string, dnskey: DnskeyData, file = '<private>'): { key: SigningKey; timing: KeyTiming } {
  const fields = new Map<string, { value: string; line: number }>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line || line.startsWith(';')) continue;
    const colon = line.indexOf(':');
    if (colon < 0) throw new KeyFileError(file, i + 1, `expected "Field: value", got "${line.slice(0, 40)}"`);
    fields.set(line.slice(0, colon).trim(), { value: line.slice(colon + 1).trim(), line: i + 1 });
  }
  const need = (name: string): string => {
    const f = fields.get(name);
    if (!f || !f.value) throw new KeyFileError(file, lines.length, `missing field "${name}"`);
    return f.value;
  };
  const format = need('Private-key-format');
  if (!/^v1\.[2-9]$/.test(format)) throw new KeyFileError(file, fields.get('Private-key-format')!.line, `unsupported Private-key-format ${format}`);
  const algField = fields.get('Algorithm');
  const alg = Number(/^\d+/.exec(need('Algorithm'))?.[0] ?? NaN);
  if (!supportedAlgorithm(alg) || !keyAlgorithmSupported(alg)) throw new KeyFileError(file, algField!.line, `unsupported algorithm "${algField!.value}"`);
  if (alg !== dnskey.algorithm) throw new KeyFileError(file, algField!.line, `algorithm ${alg} differs from the DNSKEY's ${dnskey.algorithm}`);
  const bin = (name: string): Buffer => {
    const v = need(name);
    if (!/^[A-Za-z0-9+/=\s]+$/.test(v)) throw new KeyFileError(file, fields.get(name)!.line, `${name} is not base64`);
    return Buffer.from(v, 'base64');
  };
  let key: SigningKey;
  try {
    if (alg === Algorithm.RSASHA256 || alg === Algorithm.RSASHA512) {
      const u = (name: string): string => bin(name).toString('base64url');
      const privateKey: KeyObject = createPrivateKey({
        key: {
          kty: 'RSA', n: u('Modulus'), e: u('PublicExponent'), d: u('PrivateExponent'), p: u('Prime1'), q: u('Prime2'),
          dp: u('Exponent1'), dq: u('Exponent2'), qi: u('Coefficient'),
        },
        format: 'jwk',
      });
      createPublicKey(privateKey);
      key = { algorithm: alg, privateKey, publicKey: publicKeyField(alg, privateKey) };
    } else {
      key = importRawPrivateKey(alg, bin('PrivateKey'));
    }
  } catch (e) {
    if (e instanceof KeyFileError) throw e;
    throw new KeyFileError(file, 1, `bad private key: ${(e as Error).message}`);
  }
  if (!Buffer.from(key.publicKey).equals(Buffer.from(dnskey.publicKey))) {
    throw new KeyFileError(file, 1, 'the private key does not belong to the DNSKEY in the .key file');
  }
  const timing: KeyTiming = {};
  for (const [field, label] of TIMING_FIELDS) {
    const f = fields.get(label);
    if (!f) continue;
    const t = parseBindTime(f.value);
    if (t === undefined) throw new KeyFileError(file, f.line, `${label} is not a YYYYMMDDHHMMSS time`);
    timing[field] = t;
  }
  return { key, timing };
}

/** Loads one key pair from `<base>.key` and `<base>.private`. */
export function loadKey(dir: string, base: string): ZoneKey {
  const keyFile = join(dir, `${base}.key`);
  const privateFile = join(dir, `${base}.private`);
  const pub = parseKeyFile(readFileSync(keyFile, 'utf8'), keyFile);
  const priv = parsePrivateFile(readFileSync(privateFile, 'utf8'), pub.dnskey, privateFile);
  const ksk = (pub.dnskey.flags & DnskeyFlags.SEP) !== 0;
  const k = makeZoneKey(pub.owner, priv.key, ksk, { ...pub.timing, ...priv.timing });
  // Keep the flags exactly as the file has them (a REVOKE bit, say); the tag follows them.
  if (pub.dnskey.flags !== k.dnskey.flags) {
    const dnskey = { ...k.dnskey, flags: pub.dnskey.flags };
    const tag = keyTag(dnskey);
    return { ...k, dnskey, tag, base: keyBaseName(pub.owner, dnskey.algorithm, tag) };
  }
  return k;
}

/**
 * Every key of `zone` in `dir` (files named `K<zone>.+AAA+TTTTT.key` with a `.private` beside
 * them), sorted by tag. Key files of other zones are ignored; a broken key file is an error.
 */
export function loadZoneKeys(dir: string, zone: Name): ZoneKey[] {
  if (!existsSync(dir)) return [];
  const prefix = `K${zone.isRoot ? '.' : zone.toString().slice(0, -1).toLowerCase()}.+`;
  const out: ZoneKey[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.key') || f.toLowerCase().slice(0, prefix.length) !== prefix.toLowerCase()) continue;
    if (!/\+\d{3}\+\d{5}\.key$/.test(f)) continue;
    const base = f.slice(0, -4);
    if (!existsSync(join(dir, `${base}.private`))) continue; // public-only key: someone else signs with it
    const k = loadKey(dir, base);
    if (!k.zone.equals(zone)) throw new KeyFileError(join(dir, f), 1, `key owner ${k.zone} is not the zone ${zone}`);
    out.push(k);
  }
  return out.sort((a, b) => a.tag - b.tag);
}

/** The DNSKEY record of a key at the zone apex. */
export function dnskeyRecord(k: ZoneKey, ttl: number): ResourceRecord<DnskeyData> {
  return { name: k.zone, type: RRType.DNSKEY, class: RRClass.IN, ttl, data: k.dnskey };
}

export { DnskeyFlags };
