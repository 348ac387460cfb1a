import { Name, TextError, type ResourceRecord } from '../wire/index.js';
import { checkZone, findingText } from '../zone/checks.js';
import { readZoneFile, RecordPositions, warningText, ZoneError, type ZoneWarning } from '../zone/parser.js';

export interface CommandOutput {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

/**
 * `portcullis check-zone ORIGIN FILE`, like `named-checkzone`: every syntax error and every
 * semantic error on stderr as `FILE:LINE:COL: message` (warnings too, marked `warning:`), then
 * on success `zone ORIGIN/IN: loaded serial N` and the record count on stdout.
 * Returns the exit code: 0 loaded, 1 invalid input.
 */
export async function checkZoneCommand(origin: string, file: string, out: CommandOutput): Promise<number> {
  let originName: Name;
  try {
    originName = Name.parse(origin.endsWith('.') ? origin : origin + '.');
  } catch (e) {
    out.stderr.write(`bad zone origin "${origin}": ${e instanceof TextError ? e.reason : (e as Error).message}\n`);
    return 1;
  }
  const zoneLabel = originName.isRoot ? '.' : originName.toString().slice(0, -1);
  const warnings: ZoneWarning[] = [];
  const syntax: ZoneError[] = [];
  const records: ResourceRecord[] = [];
  // Positions in a table of our own (compact, gone when this returns) rather than for the
  // records' lifetime.
  const positions = new RecordPositions();
  try {
    for await (const rr of readZoneFile(file, {
      origin: originName,
      warnings,
      positions,
      onError: (e) => {
        if (syntax.length < 1000) syntax.push(e);
      },
    })) {
      records.push(rr);
    }
  } catch (e) {
    if (!(e instanceof ZoneError)) throw e;
    syntax.push(e);
  }
  for (const w of warnings) out.stderr.write(`${warningText(w)} (warning)\n`);
  for (const e of syntax) out.stderr.write(`${e.message}\n`);
  if (syntax.length) {
    out.stderr.write(`zone ${zoneLabel}/IN: loading from master file ${file} failed: ${syntax.length} error${syntax.length > 1 ? 's' : ''}\n`);
    out.stderr.write(`zone ${zoneLabel}/IN: not loaded due to errors.\n`);
    return 1;
  }
  const result = checkZone(originName, records, { position: positions.get });
  for (const w of result.warnings) out.stderr.write(`${findingText(w)} (warning)\n`);
  for (const e of result.errors) out.stderr.write(`${findingText(e)}\n`);
  if (result.errors.length) {
    out.stderr.write(`zone ${zoneLabel}/IN: not loaded due to errors.\n`);
    return 1;
  }
  out.stdout.write(`zone ${zoneLabel}/IN: loaded serial ${result.serial ?? 0}\n`);
  out.stdout.write(`${result.records.length} records\n`);
  out.stdout.write('OK\n');
  return 0;
}
