// A zone file to a checked, built zone in the order that costs least at a million records:
// stream the records into a ZoneBuilder as they are parsed (no array of records, no table of
// positions), check the tree, and read the file a second time only to place findings.
import { open, type FileHandle } from 'node:fs/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { encodeRdata, type Name, type ResourceRecord } from '../wire/index.js';
import { checkBuiltZone, checkZone, findingText, recordEventFinding, type ZoneFinding, type ZoneFindings } from './checks.js';
import { readZoneFile, readZoneFileBatches, recordPosition, RecordPositions, warningText, ZoneError, type SourcePosition, type ZoneParseOptions, type ZoneWarning } from './parser.js';
import { buildZone, ZoneBuildError, ZoneBuilder, type Zone } from './zone.js';

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
 * Reads, builds and checks one zone file. The records go straight from `readZoneFile` into a
 * `ZoneBuilder` (out-of-zone records skipped, duplicates and TTL differences reported as they
 * come), then `checkBuiltZone` runs on the tree. Findings get their `FILE:LINE:COL` from a
 * second read of the file, done only when there are findings, so a clean zone is read once and
 * never holds a record array or a position per record. A zone that cannot be built (no SOA,
 * two SOAs, a meta type) is read again the old way, into an array for `checkZone`, to say why.
 * Yields to the event loop every `yieldEvery` records while reading; the tree is compiled and
 * checked synchronously. Never throws for bad input: problems come back in `errors`, with no
 * `zone`.
 */
export async function loadZoneFile(origin: Name, file: string, options: ZoneFileLoadOptions = {}): Promise<ZoneFileLoad> {
  const every = options.yieldEvery ?? 4096;
  const maxErrors = options.maxErrors ?? 1000;
  const parserWarnings: ZoneWarning[] = [];
  const errors: string[] = [];
  const places = new Placeholders();
  const recordWarnings: ZoneFinding[] = [];
  let ordinal = -1;
  let builder: ZoneBuilder | undefined = new ZoneBuilder(origin, {
    outside: 'skip',
    pack: true,
    expectedNames: await expectedNames(file),
    onRecord: (event, rr, ttl) => {
      const at = ordinal;
      recordWarnings.push(recordEventFinding(event, rr, origin, ttl, { position: () => places.ofOrdinal(at) }));
    },
  });
  let unbuildable = false;
  try {
    let sinceYield = 0;
    for await (const batch of readZoneFileBatches(file, {
      ...options.parse, origin, warnings: parserWarnings,
      onError: (e) => {
        if (errors.length < maxErrors) errors.push(e.message);
        builder = undefined; // the zone will not be served: stop building it
      },
    })) {
      builder?.prefetch(batch);
      for (const rr of batch) {
        ordinal++;
        if (builder) {
          try {
            builder.add(rr);
          } catch (e) {
            if (!(e instanceof ZoneBuildError)) throw e;
            unbuildable = true;
            builder = undefined;
          }
        }
      }
      sinceYield += batch.length;
      if (sinceYield >= every) {
        sinceYield = 0;
        await yieldToLoop();
      }
    }
  } catch (e) {
    if (!(e instanceof ZoneError)) throw e;
    errors.push(e.message);
  }
  const warnings = parserWarnings.map(warningText);
  if (errors.length) return { errors, warnings };
  await yieldToLoop();
  let zone: Zone | undefined;
  if (builder && !unbuildable) {
    try {
      zone = await (builder as ZoneBuilder).finishAsync(yieldToLoop);
    } catch (e) {
      if (!(e instanceof ZoneBuildError)) throw e;
    }
  }
  builder = undefined;
  if (!zone) return loadWithArray(origin, file, options);
  await yieldToLoop();
  const findings: ZoneFindings = checkBuiltZone(zone, undefined, { position: places.ofRecord });
  if (places.size) await places.locate(file, origin, options.parse, every);
  errors.push(...findings.errors.map(findingText));
  warnings.push(...recordWarnings.map(findingText), ...findings.warnings.map(findingText));
  return errors.length ? { errors, warnings } : { zone, errors, warnings };
}

/** A mutable SourcePosition, filled in by the second read. */
interface Place {
  file: string;
  line: number;
  col: number;
}

/**
 * Positions asked for by the checks, as placeholders filled in by reading the file again: by
 * ordinal for records the builder reported (a duplicate's own position, not its first copy's),
 * by owner, type and canonical RDATA for records in the tree (the first such record in the
 * file, which is the one the tree kept).
 */
class Placeholders {
  private readonly ordinals = new Map<number, Place>();
  private readonly contents = new Map<string, Place>();
  private readonly owners = new Set<string>();

  get size(): number {
    return this.ordinals.size + this.contents.size;
  }

  ofOrdinal(at: number): SourcePosition {
    let p = this.ordinals.get(at);
    if (!p) this.ordinals.set(at, (p = { file: '', line: 0, col: 0 }));
    return p;
  }

  readonly ofRecord = (rr: ResourceRecord): SourcePosition => {
    const owner = ownerKey(rr);
    this.owners.add(owner);
    const key = owner + '\0' + rdataKey(rr);
    let p = this.contents.get(key);
    if (!p) this.contents.set(key, (p = { file: '', line: 0, col: 0 }));
    return p;
  };

  /** Reads the file again (records not kept) and fills in every placeholder it can. */
  async locate(file: string, origin: Name, parse: ZoneFileLoadOptions['parse'], every: number): Promise<void> {
    let at = -1;
    let open = this.size;
    const fill = (p: Place | undefined, rr: ResourceRecord): void => {
      if (!p || p.line) return;
      const pos = recordPosition(rr);
      if (!pos) return;
      p.file = pos.file;
      p.line = pos.line;
      p.col = pos.col;
      open--;
    };
    try {
      for await (const rr of readZoneFile(file, { ...parse, origin, positions: true, onError: () => {} })) {
        at++;
        fill(this.ordinals.get(at), rr);
        if (this.owners.has(ownerKey(rr))) fill(this.contents.get(ownerKey(rr) + '\0' + rdataKey(rr)), rr);
        if (open <= 0) break;
        if ((at + 1) % every === 0) await yieldToLoop();
      }
    } catch (e) {
      // The file changed or vanished since the first read: findings keep their name form.
      if (!(e instanceof ZoneError)) throw e;
    }
  }
}

function ownerKey(rr: ResourceRecord): string {
  return `${rr.name.key}\0${rr.type}`;
}

function rdataKey(rr: ResourceRecord): string {
  const bytes = rr.data instanceof Uint8Array ? rr.data : encodeRdata(rr.type, rr.data, true);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/**
 * The path for a zone the builder refused (no SOA, two SOAs, a meta type, another class): every
 * record in an array with its position, so `checkZone` can say what is wrong and where.
 */
async function loadWithArray(origin: Name, file: string, options: ZoneFileLoadOptions): Promise<ZoneFileLoad> {
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
  let zone: Zone | undefined;
  let findings: ZoneFindings;
  const position = positions.get;
  try {
    zone = buildZone(origin, outside ? records.filter((rr) => rr.name.isSubdomainOf(origin)) : records);
    findings = checkBuiltZone(zone, records, { position });
  } catch (e) {
    if (!(e instanceof ZoneBuildError)) throw e;
    findings = checkZone(origin, records, { position });
    if (findings.errors.length === 0) errors.push(e.message);
    zone = undefined;
  }
  errors.push(...findings.errors.map(findingText));
  warnings.push(...findings.warnings.map(findingText));
  return errors.length || !zone ? { errors, warnings } : { zone, errors, warnings };
}

/** Bytes of a zone file sampled by expectedNames. */
const SAMPLE_BYTES = 1 << 20;

/**
 * A guess of the names in a zone file, so the node table starts at its final size instead of
 * doubling (and placing every name again) once the guess is passed: the lines of the first MiB
 * that start with an owner name (not blank, a comment, a directive or a continuation), scaled to
 * the file's size. Records that share an owner leave it blank in most files (dnssec-signzone's
 * output, hand-written sets), so a signed zone is not taken for ten times its names. 0 when the
 * file cannot be read.
 */
export async function expectedNames(file: string): Promise<number> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, 'r');
    const size = (await handle.stat()).size;
    const sample = Buffer.allocUnsafe(Math.min(size, SAMPLE_BYTES));
    const { bytesRead } = await handle.read(sample, 0, sample.length, 0);
    if (bytesRead === 0) return 0;
    return Math.min(8_000_000, Math.ceil((ownerLines(sample.subarray(0, bytesRead)) * size) / bytesRead));
  } catch {
    return 0;
  } finally {
    await handle?.close().catch(() => {});
  }
}

/** Lines of `text` that start with an owner name (see expectedNames). */
export function ownerLines(text: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    // 0x20 space, 0x09 tab, 0x0d/0x0a line ends, 0x3b ';', 0x24 '$', 0x28/0x29 parentheses
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a && c !== 0x3b && c !== 0x24 && c !== 0x28 && c !== 0x29) n++;
    const nl = text.indexOf(0x0a, i);
    if (nl < 0) break;
    i = nl;
  }
  return n;
}
