import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { generateZoneKey, KeyFileError, keyAlgorithmSupported, loadZoneKeys, saveKey } from '../dnssec/keys.js';
import { DEFAULT_ROLLOVER, describeKeys, markDsSeen, type RolloverPolicy } from '../dnssec/rollover.js';
import { parseDuration, signerSettings } from '../dnssec/signer-config.js';
import { loadConfig } from '../server/config.js';
import { DEFAULT_POLICY, dsRecords, SigningError, signZoneDetailed, type SigningPolicy } from '../dnssec/signer.js';
import { DigestType } from '../dnssec/types.js';
import { Name, recordToText, type ResourceRecord } from '../wire/index.js';
import { checkZone, findingText } from '../zone/checks.js';
import { readZoneFile, ZoneError } from '../zone/parser.js';
import { printZone } from '../zone/printer.js';

/**
 * `portcullis dnssec keygen|sign|ds`: key files in BIND's format, offline signing of a zone
 * file, and the DS records to hand to the parent. Exit codes: 0 done, 1 invalid input
 * (arguments, zone or key files), 2 runtime failure (cannot write).
 */

interface Out {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

const std: Out = { stdout: process.stdout, stderr: process.stderr };

function zoneArg(v: string): Name {
  try {
    return Name.parse(v.endsWith('.') ? v : `${v}.`);
  } catch (e) {
    throw new InvalidArgumentError(`bad zone name "${v}": ${(e as Error).message}`);
  }
}

function algArg(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !keyAlgorithmSupported(n)) throw new InvalidArgumentError(`algorithm must be one of 8, 10, 13, 14, 15, 16 (got "${v}")`);
  return n;
}

function durationArg(v: string): number {
  const n = parseDuration(v);
  if (n === undefined || n <= 0) throw new InvalidArgumentError(`bad duration "${v}" (seconds, or a number with s, m, h, d or w)`);
  return n;
}

function intArg(min: number, max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || +v < min || +v > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
    return +v;
  };
}

const zoneLabel = (n: Name): string => (n.isRoot ? '.' : n.toString().slice(0, -1));

export interface KeygenOptions {
  algorithm: number;
  ksk?: boolean;
  dir: string;
  bits?: number;
  ttl?: number;
}

/** `dnssec keygen`: makes a key pair in `dir`, prints its base name (as dnssec-keygen does). */
export function keygenCommand(zone: Name, o: KeygenOptions, out: Out = std, now = Math.floor(Date.now() / 1000)): number {
  const k = generateZoneKey(zone, o.algorithm, o.ksk === true, now, o.bits ?? 2048);
  try {
    saveKey(o.dir, k, o.ttl);
  } catch (e) {
    out.stderr.write(`cannot write key files in ${o.dir}: ${(e as Error).message}\n`);
    return 2;
  }
  out.stdout.write(`${k.base}\n`);
  return 0;
}

export interface SignOptions {
  nsec3?: boolean;
  nsec?: boolean;
  optOut?: boolean;
  iterations?: number;
  salt?: string;
  out?: string;
  dir?: string;
  algorithm: number;
  lifetime?: number;
  now?: number;
}

/**
 * `dnssec sign ORIGIN FILE`: reads and checks the zone file, signs it with the keys in the key
 * folder (default: the zone file's folder; a CSK is generated there when none exists) and
 * prints the signed zone (or writes it to --out).
 */
export async function signCommand(origin: Name, file: string, o: SignOptions, out: Out = std): Promise<number> {
  const now = o.now ?? Math.floor(Date.now() / 1000);
  const records: ResourceRecord[] = [];
  try {
    for await (const rr of readZoneFile(file, { origin, positions: true })) records.push(rr);
  } catch (e) {
    if (e instanceof ZoneError) {
      out.stderr.write(`${e.message}\n`);
      return 1;
    }
    out.stderr.write(`cannot read ${file}: ${(e as Error).message}\n`);
    return 1;
  }
  const checked = checkZone(origin, records);
  for (const f of checked.warnings) out.stderr.write(`${findingText(f)} (warning)\n`);
  if (checked.errors.length) {
    for (const f of checked.errors) out.stderr.write(`${findingText(f)}\n`);
    return 1;
  }
  const dir = o.dir ?? dirname(file);
  let keys;
  try {
    keys = loadZoneKeys(dir, origin);
  } catch (e) {
    out.stderr.write(`${(e as Error).message}\n`);
    return e instanceof KeyFileError ? 1 : 2;
  }
  if (keys.length === 0) {
    const k = generateZoneKey(origin, o.algorithm, true, now);
    try {
      saveKey(dir, k, DEFAULT_POLICY.dnskeyTtl);
    } catch (e) {
      out.stderr.write(`cannot write key files in ${dir}: ${(e as Error).message}\n`);
      return 2;
    }
    out.stderr.write(`no keys for ${zoneLabel(origin)} in ${dir}: generated CSK ${k.base}\n`);
    keys = [k];
  }
  if (o.nsec && o.nsec3) {
    out.stderr.write('--nsec and --nsec3 exclude each other\n');
    return 1;
  }
  let salt = new Uint8Array(0);
  if (o.salt !== undefined && o.salt !== '-') {
    if (!/^([0-9a-fA-F]{2}){1,255}$/.test(o.salt)) {
      out.stderr.write(`bad --salt "${o.salt}": hex digits, or - for none\n`);
      return 1;
    }
    salt = new Uint8Array(Buffer.from(o.salt, 'hex'));
  }
  const policy: SigningPolicy = {
    ...DEFAULT_POLICY,
    denial: o.nsec ? 'nsec' : 'nsec3',
    nsec3OptOut: o.optOut === true,
    nsec3Iterations: o.iterations ?? 0,
    nsec3Salt: salt,
    signatureLifetime: o.lifetime ?? DEFAULT_POLICY.signatureLifetime,
  };
  if (policy.signatureRefresh + policy.signatureJitter >= policy.signatureLifetime) {
    policy.signatureRefresh = Math.floor(policy.signatureLifetime / 3);
    policy.signatureJitter = Math.floor(policy.signatureLifetime / 10);
  }
  let result;
  try {
    result = signZoneDetailed(origin, checked.records, policy, keys, now);
  } catch (e) {
    if (!(e instanceof SigningError)) throw e;
    out.stderr.write(`${e.message}\n`);
    return 1;
  }
  const text = printZone(result.records, { origin });
  if (o.out) {
    try {
      writeFileSync(o.out, text);
    } catch (e) {
      out.stderr.write(`cannot write ${o.out}: ${(e as Error).message}\n`);
      return 2;
    }
  } else out.stdout.write(text);
  out.stderr.write(
    `${zoneLabel(origin)}: ${result.records.length} records, ${result.created} signatures by ${result.signingKeys.map((k) => k.base).join(', ')}\n`,
  );
  return 0;
}

/**
 * The zone's keys in `dir`, or the exit code 1 after saying why on stderr: an unreadable key
 * file, or (with `requireSome`) no keys at all.
 */
function zoneKeysOrExit(zone: Name, dir: string, out: Out, requireSome: boolean): ReturnType<typeof loadZoneKeys> | number {
  let keys;
  try {
    keys = loadZoneKeys(dir, zone);
  } catch (e) {
    out.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  if (requireSome && keys.length === 0) {
    out.stderr.write(`no keys for ${zoneLabel(zone)} in ${dir}\n`);
    return 1;
  }
  return keys;
}

/** `dnssec ds ZONE`: DS records (SHA-256 and SHA-384) of the zone's KSKs/CSKs, for the parent. */
export function dsCommand(zone: Name, o: { dir: string; ttl?: number }, out: Out = std): number {
  const keys = zoneKeysOrExit(zone, o.dir, out, true);
  if (typeof keys === 'number') return keys;
  for (const rr of dsRecords(keys, o.ttl ?? 3600, [DigestType.SHA256, DigestType.SHA384])) out.stdout.write(`${recordToText(rr)}\n`);
  return 0;
}

export interface StatusOptions {
  dir?: string;
  config?: string;
  now?: number;
}

/**
 * The key folder and rollover policy of `zone`: from the config file's `zones[].dnssec` when
 * `--config` is given (the zone must be signed there), else `--dir` (default `.`) with the
 * default policy (no automatic rollover).
 */
async function keySetup(zone: Name, o: StatusOptions, out: Out): Promise<{ dir: string; rollover: RolloverPolicy; dnskeyTtl: number; signatureLifetime: number } | number> {
  if (o.config) {
    let config;
    try {
      config = await loadConfig(o.config);
    } catch (e) {
      out.stderr.write(`${(e as Error).message}\n`);
      return 1;
    }
    const zc = config.zones.find((z) => z.name.replace(/\.?$/, '.').toLowerCase() === zone.toString().toLowerCase());
    if (!zc?.dnssec?.sign || !zc.file) {
      out.stderr.write(`${o.config}: zone ${zoneLabel(zone)} is not signed there (zones[].dnssec.sign)\n`);
      return 1;
    }
    const s = signerSettings(zc.dnssec, zc.file);
    return { dir: s.keyDirectory, rollover: s.rollover ?? DEFAULT_ROLLOVER, dnskeyTtl: s.policy.dnskeyTtl, signatureLifetime: s.policy.signatureLifetime };
  }
  return { dir: o.dir ?? '.', rollover: DEFAULT_ROLLOVER, dnskeyTtl: DEFAULT_POLICY.dnskeyTtl, signatureLifetime: DEFAULT_POLICY.signatureLifetime };
}

/** `dnssec status ZONE`: each key's role, state and schedule; a KSK rollover waiting for the parent's DS. */
export async function statusCommand(zone: Name, o: StatusOptions, out: Out = std): Promise<number> {
  const setup = await keySetup(zone, o, out);
  if (typeof setup === 'number') return setup;
  const now = o.now ?? Math.floor(Date.now() / 1000);
  const keys = zoneKeysOrExit(zone, setup.dir, out, true);
  if (typeof keys === 'number') return keys;
  const r = setup.rollover;
  const life = (v: number): string => (!v ? 'never' : v % 86400 === 0 ? `${v / 86400}d` : v % 3600 === 0 ? `${v / 3600}h` : `${v}s`);
  out.stdout.write(`zone ${zoneLabel(zone)}: ${keys.length} keys in ${setup.dir}; zsk-lifetime ${life(r.zskLifetime)}, ksk-lifetime ${life(r.kskLifetime)}\n`);
  // The zone's largest TTL is not known offline; the DNSKEY TTL stands in for the schedule shown.
  for (const line of describeKeys(keys, r, { dnskeyTtl: setup.dnskeyTtl, signatureLifetime: setup.signatureLifetime, maxZoneTtl: setup.dnskeyTtl }, now)) out.stdout.write(`${line}\n`);
  return 0;
}

/**
 * `dnssec ds-seen ZONE TAG`: the operator confirms that the parent publishes the DS of key TAG
 * (like `rndc dnssec -checkds published`). Written as `DSPublish` into the key files; the
 * signer reads it on its next pass (at most an hour later, or at a reload) and retires the old key.
 */
export async function dsSeenCommand(zone: Name, tag: number, o: StatusOptions, out: Out = std): Promise<number> {
  const setup = await keySetup(zone, o, out);
  if (typeof setup === 'number') return setup;
  const now = o.now ?? Math.floor(Date.now() / 1000);
  const keys = zoneKeysOrExit(zone, setup.dir, out, false);
  if (typeof keys === 'number') return keys;
  let k;
  try {
    k = markDsSeen(keys, tag, now);
  } catch (e) {
    out.stderr.write(`${zoneLabel(zone)}: ${(e as Error).message} in ${setup.dir}\n`);
    return 1;
  }
  try {
    saveKey(setup.dir, k);
  } catch (e) {
    out.stderr.write(`cannot write key files in ${setup.dir}: ${(e as Error).message}\n`);
    return 2;
  }
  out.stdout.write(`${k.base}: DS seen at the parent ${new Date(now * 1000).toISOString()}\n`);
  return 0;
}

export function registerDnssecCommand(program: Command): void {
  const dnssec = program.command('dnssec').description('DNSSEC keys, offline signing and DS records (see docs/dnssec.md)');

  dnssec
    .command('keygen')
    .description('generate a key pair in BIND format (K<zone>.+AAA+TTTTT.key/.private); prints the base name')
    .argument('<zone>', 'zone name', zoneArg)
    .option('-a, --algorithm <n>', 'algorithm: 13 ECDSA P-256, 8 RSA/SHA-256, 15 Ed25519, 10, 14, 16', algArg, 13)
    .option('--ksk', 'key-signing key (SEP bit, flags 257); also the combined signing key of a CSK policy')
    .option('-d, --dir <dir>', 'key folder', '.')
    .option('-b, --bits <n>', 'RSA modulus size', intArg(1024, 4096), 2048)
    .action((zone: Name, o: KeygenOptions) => {
      process.exitCode = keygenCommand(zone, o);
    });

  dnssec
    .command('sign')
    .description('sign a zone file offline and print it (keys from --dir, default the zone file\'s folder; a CSK is made there if none)')
    .argument('<origin>', 'zone name', zoneArg)
    .argument('<file>', 'zone file')
    .option('--nsec3', 'NSEC3 denial, 0 iterations, no salt (RFC 9276) — the default')
    .option('--nsec', 'NSEC denial instead of NSEC3')
    .option('--opt-out', 'NSEC3 opt-out for unsigned delegations')
    .option('--iterations <n>', 'NSEC3 extra iterations (RFC 9276: 0)', intArg(0, 100))
    .option('--salt <hex>', 'NSEC3 salt in hex, - for none (RFC 9276: none)')
    .option('-a, --algorithm <n>', 'algorithm of a generated key', algArg, 13)
    .option('-d, --dir <dir>', 'key folder')
    .option('--lifetime <duration>', 'signature validity, e.g. 14d', durationArg)
    .option('-o, --out <file>', 'write the signed zone here instead of stdout')
    .action(async (origin: Name, file: string, o: SignOptions) => {
      process.exitCode = await signCommand(origin, file, o);
    });

  dnssec
    .command('ds')
    .description('print the DS records (SHA-256, SHA-384) of the zone\'s key-signing keys for the parent')
    .argument('<zone>', 'zone name', zoneArg)
    .option('-d, --dir <dir>', 'key folder', '.')
    .option('--ttl <seconds>', 'TTL of the printed records', intArg(0, 2147483647), 3600)
    .action((zone: Name, o: { dir: string; ttl?: number }) => {
      process.exitCode = dsCommand(zone, o);
    });

  dnssec
    .command('status')
    .description('the zone\'s keys: role, state, schedule; what a key rollover waits for (the DS at the parent)')
    .argument('<zone>', 'zone name', zoneArg)
    .option('-d, --dir <dir>', 'key folder (default .)')
    .option('-c, --config <file>', 'take the key folder and rollover policy from this config file')
    .action(async (zone: Name, o: StatusOptions) => {
      process.exitCode = await statusCommand(zone, o);
    });

  dnssec
    .command('ds-seen')
    .description('confirm that the parent publishes the DS of key TAG (finishes a KSK/CSK rollover; like rndc dnssec -checkds published)')
    .argument('<zone>', 'zone name', zoneArg)
    .argument('<tag>', 'key tag', intArg(0, 65535))
    .option('-d, --dir <dir>', 'key folder (default .)')
    .option('-c, --config <file>', 'take the key folder from this config file')
    .action(async (zone: Name, tag: number, o: StatusOptions) => {
      process.exitCode = await dsSeenCommand(zone, tag, o);
    });
}
