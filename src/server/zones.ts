// Loading zones for serving: readZoneFile → checkZone → buildZone, without blocking the event
// loop for long (records are collected in chunks with a yield between them).
import { stat } from 'node:fs/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Name, type ResourceRecord } from '../wire/index.js';
import { readZoneFile, ZoneError, warningText, type ZoneWarning } from '../zone/parser.js';
import { buildZone, type Zone } from '../zone/zone.js';
import { checkZone, findingText } from '../zone/checks.js';
import type { ZoneConfig } from './config.js';
import type { ZoneSigner } from '../dnssec/signer-service.js';

export interface LoadZoneOptions {
  /** Online signing: the checked records are signed between the checks and the build. */
  signer?: ZoneSigner;
  /** Seconds since the epoch for signing (default: now). */
  now?: number;
}

/** Records parsed between two yields to the event loop. */
const CHUNK = 4096;

export interface ZoneLoad {
  readonly name: string;
  readonly file: string;
  /** Identifies the file version that was read (mtime, size, inode). */
  readonly signature: string;
  readonly zone?: Zone;
  readonly errors: string[];
  readonly warnings: string[];
  readonly ms: number;
}

export function zoneOrigin(name: string): Name {
  return Name.parse(name.endsWith('.') ? name : name + '.');
}

export async function fileSignature(file: string): Promise<string> {
  try {
    const s = await stat(file);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch (e) {
    return `missing:${(e as NodeJS.ErrnoException).code ?? ''}`;
  }
}

function text(e: unknown): string {
  if (e instanceof ZoneError) return e.message;
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

/** Loads one primary zone. Never throws: problems come back in `errors` (and no `zone`). */
export async function loadZone(zc: ZoneConfig, opts: LoadZoneOptions = {}): Promise<ZoneLoad> {
  const started = performance.now();
  const file = zc.file!;
  const signature = await fileSignature(file);
  const errors: string[] = [];
  const warnings: ZoneWarning[] = [];
  const extraWarnings: string[] = [];
  const done = (zone?: Zone): ZoneLoad => ({
    name: zc.name,
    file,
    signature,
    zone,
    errors,
    warnings: [...warnings.map(warningText), ...extraWarnings],
    ms: Math.round(performance.now() - started),
  });
  let origin: Name;
  try {
    origin = zoneOrigin(zc.name);
  } catch (e) {
    errors.push(`bad zone name "${zc.name}": ${text(e)}`);
    return done();
  }
  const records: ResourceRecord[] = [];
  try {
    let n = 0;
    for await (const rr of readZoneFile(file, { origin, warnings, positions: true, onError: (e) => void errors.push(e.message) })) {
      records.push(rr);
      if (++n % CHUNK === 0) await yieldToLoop();
    }
  } catch (e) {
    errors.push(text(e));
  }
  if (errors.length) return done();
  // Semantic checks (named-checkzone's): errors keep the zone out; the checked record list
  // (duplicates collapsed, out-of-zone data dropped) is what gets served.
  const checked = checkZone(origin, records);
  errors.push(...checked.errors.map(findingText));
  extraWarnings.push(...checked.warnings.map(findingText));
  if (errors.length) return done();
  await yieldToLoop();
  try {
    const served = opts.signer ? opts.signer.sign(checked.records, opts.now ?? Math.floor(Date.now() / 1000)).records : checked.records;
    return done(buildZone(origin, served));

  } catch (e) {
    errors.push(text(e));
    return done();
  }
}
