// A zone file to a checked, built zone in the order that costs least at a million records:
// parse once (yielding to the event loop), build the tree once, check the tree.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Name, ResourceRecord } from '../wire/index.js';
import { checkBuiltZone, checkZone, findingText, type ZoneFindings } from './checks.js';
import { readZoneFile, RecordPositions, warningText, ZoneError, type ZoneParseOptions, type ZoneWarning } from './parser.js';
import { buildZone, ZoneBuildError, type Zone } from './zone.js';

export interface ZoneFileLoad {
  /** The built zone; absent when there were errors. */
  readonly zone?: Zone;
  /** Syntax errors and check errors, each `FILE:LINE:COL: message` (at most `maxErrors` syntax errors). */
  readonly errors: string[];
  /** Parser warnings and check warnings, the same form. */
  readonly warnings: string[];
}

export interface ZoneFileLoadOptions {
  /** Records parsed between two yields to the event loop. Default 4096. */
  readonly yieldEvery?: number;
  /** Syntax errors kept (the parse goes on to find the others). Default 1000. */
  readonly maxErrors?: number;
  /** Other parser options (defaultTtl, generateLimit, includeDepth, ...). */
  readonly parse?: Omit<ZoneParseOptions, 'origin' | 'warnings' | 'onError' | 'positions'>;
}

/**
 * Reads, builds and checks one zone file: `readZoneFile` into an array (positions in a
 * `RecordPositions` table), `buildZone`, then `checkBuiltZone` with the records. Only the zone
 * is kept: the record array and the positions are dropped on return. `buildZone` itself runs
 * without yielding (it is synchronous); everything before it yields every `yieldEvery` records.
 * Never throws for bad input: problems come back in `errors`, with no `zone`.
 */
export async function loadZoneFile(origin: Name, file: string, options: ZoneFileLoadOptions = {}): Promise<ZoneFileLoad> {
  const every = options.yieldEvery ?? 4096;
  const maxErrors = options.maxErrors ?? 1000;
  const parserWarnings: ZoneWarning[] = [];
  const positions = new RecordPositions();
  const errors: string[] = [];
  const records: ResourceRecord[] = [];
  let outside = 0;
  try {
    for await (const rr of readZoneFile(file, {
      ...options.parse, origin, warnings: parserWarnings, positions,
      onError: (e) => {
        if (errors.length < maxErrors) errors.push(e.message);
      },
    })) {
      records.push(rr);
      if (!rr.name.isSubdomainOf(origin)) outside++;
      if (records.length % every === 0) await yieldToLoop();
    }
  } catch (e) {
    if (!(e instanceof ZoneError)) throw e;
    errors.push(e.message);
  }
  const warnings = parserWarnings.map(warningText);
  if (errors.length) return { errors, warnings };
  await yieldToLoop();
  let zone: Zone | undefined;
  let findings: ZoneFindings;
  const position = positions.get;
  try {
    // buildZone refuses out-of-zone records; the checks report them (OUT_OF_ZONE) from `records`.
    zone = buildZone(origin, outside ? records.filter((rr) => rr.name.isSubdomainOf(origin)) : records);
    await yieldToLoop();
    findings = checkBuiltZone(zone, records, { position });
  } catch (e) {
    if (!(e instanceof ZoneBuildError)) throw e;
    // No tree (no SOA, several SOAs): the record checks say why, with positions.
    findings = checkZone(origin, records, { position });
    if (findings.errors.length === 0) errors.push(e.message);
    zone = undefined;
  }
  errors.push(...findings.errors.map(findingText));
  warnings.push(...findings.warnings.map(findingText));
  return errors.length || !zone ? { errors, warnings } : { zone, errors, warnings };
}
