// Loading zones for serving, in the order that costs least at a million records, without
// blocking the event loop for long (the parse yields about every 4096 records, read in batches):
// - unsigned zones: `loadZoneFile` (src/zone/checks-load.ts): the parse streamed into the tree
//   builder (no array of records), `checkBuiltZone` on the tree, the file read again only to
//   place findings; only the zone is kept.
// - zones with `dnssec.sign`: the signer needs the checked records before the build, so the
//   records are kept until it is done: parse → `checkZone` → sign → `buildZone`.
import { stat } from 'node:fs/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Name, type ResourceRecord } from '../wire/index.js';
import { readZoneFileBatches, RecordPositions, ZoneError, warningText, type ZoneWarning } from '../zone/parser.js';
import { buildZone, type Zone } from '../zone/zone.js';
import { checkZone, findingText } from '../zone/checks.js';
import { loadZoneFile } from '../zone/checks-load.js';
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
/** Syntax errors kept per load (the parse goes on to find the others). */
const MAX_ERRORS = 1000;

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
  // Taken before the read: a file changed during the load is seen as changed by the next reload.
  const signature = await fileSignature(file);
  const errors: string[] = [];
  const warnings: string[] = [];
  const done = (zone?: Zone): ZoneLoad => ({ name: zc.name, file, signature, zone, errors, warnings, ms: Math.round(performance.now() - started) });
  let origin: Name;
  try {
    origin = zoneOrigin(zc.name);
  } catch (e) {
    errors.push(`bad zone name "${zc.name}": ${text(e)}`);
    return done();
  }
  try {
    if (!opts.signer) {
      const load = await loadZoneFile(origin, file, { yieldEvery: CHUNK, maxErrors: MAX_ERRORS });
      errors.push(...load.errors);
      warnings.push(...load.warnings);
      return done(load.zone);
    }
    return done(await loadSigned(origin, file, opts.signer, opts.now, errors, warnings));
  } catch (e) {
    errors.push(text(e));
    return done();
  }
}

/** parse → checkZone → sign → buildZone; the record array lives until the build. */
async function loadSigned(origin: Name, file: string, signer: ZoneSigner, now: number | undefined, errors: string[], warnings: string[]): Promise<Zone | undefined> {
  const parserWarnings: ZoneWarning[] = [];
  const positions = new RecordPositions();
  const records: ResourceRecord[] = [];
  try {
    let sinceYield = 0;
    for await (const batch of readZoneFileBatches(file, {
      origin, warnings: parserWarnings, positions,
      onError: (e) => {
        if (errors.length < MAX_ERRORS) errors.push(e.message);
      },
    })) {
      for (const rr of batch) records.push(rr);
      sinceYield += batch.length;
      if (sinceYield >= CHUNK) {
        sinceYield = 0;
        await yieldToLoop();
      }
    }
  } catch (e) {
    errors.push(text(e));
  }
  warnings.push(...parserWarnings.map(warningText));
  if (errors.length) return undefined;
  // Semantic checks (named-checkzone's): errors keep the zone out; the checked record list
  // (duplicates collapsed, out-of-zone data dropped) is what gets signed and served.
  const checked = checkZone(origin, records, { position: positions.get });
  errors.push(...checked.errors.map(findingText));
  warnings.push(...checked.warnings.map(findingText));
  if (errors.length) return undefined;
  records.length = 0;
  await yieldToLoop();
  return buildZone(origin, signer.sign(checked.records, now ?? Math.floor(Date.now() / 1000)).records);
}
