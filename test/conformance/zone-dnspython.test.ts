// dnspython's `example` zone (nearly every RR type, relative names, $TTL changes) must parse,
// and printing it must agree with dnspython's `example2.good` (absolute names). Formatting
// differs (we separate fields by tabs and print RDATA in our codecs' canonical text), so both
// files go through our parser and printer and the resulting record lines are compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Name } from '../../src/wire/index.js';
import { parseZoneText, ZoneError } from '../../src/zone/parser.js';
import { printRecord, printZone } from '../../src/zone/printer.js';
import { conformanceDir } from './dir.js';

const dir = join(conformanceDir(), 'dnspython-tests');

/**
 * Records we do not load, with the reason. Each is refused in both files, at these types.
 * A new failure, or one of these starting to load, fails the test.
 */
const ACCEPTED_UNKNOWN = new Map<string, string>([]);

function load(file: string, origin: string) {
  const errors: ZoneError[] = [];
  const records = parseZoneText(readFileSync(join(dir, file), 'utf8'), { origin, file, onError: (e) => errors.push(e) });
  return { records, errors };
}

function unknownTypeOf(e: ZoneError): string | undefined {
  return /^unknown record type "([A-Z0-9-]+)"/.exec(e.reason)?.[1];
}

test('dnspython example: parses, except the documented unknown types', (t) => {
  const { records, errors } = load('example', 'example.');
  t.diagnostic(`example: ${records.length} records loaded, ${errors.length} refused`);
  for (const e of errors) assert.ok(ACCEPTED_UNKNOWN.has(unknownTypeOf(e) ?? ''), `unexpected error ${e.message}`);
  assert.deepEqual([...new Set(errors.map(unknownTypeOf))].sort(), [...ACCEPTED_UNKNOWN.keys()].sort());
  assert.equal(records.length, 178);
});

test('dnspython example: printing agrees with example2.good (absolute names)', (t) => {
  const ours = load('example', 'example.');
  const good = load('example2.good', '.');
  for (const e of good.errors) assert.ok(ACCEPTED_UNKNOWN.has(unknownTypeOf(e) ?? ''), `unexpected error in example2.good: ${e.message}`);
  assert.equal(good.errors.length, ours.errors.length);
  const a = printZone(ours.records).split('\n').filter(Boolean);
  const b = printZone(good.records).split('\n').filter(Boolean);
  assert.deepEqual(a, b);
  // How much of dnspython's text we reproduce verbatim (fields joined by one space).
  const goodLines = new Set(readFileSync(join(dir, 'example2.good'), 'utf8').split('\n'));
  const verbatim = ours.records.filter((r) => goodLines.has(printRecord(r).replaceAll('\t', ' '))).length;
  t.diagnostic(`${a.length} records agree; ${verbatim} of them print exactly as dnspython prints them`);
  assert.ok(verbatim > 0);
});

test('dnspython example: parse -> print -> parse is the identity', () => {
  const { records } = load('example', 'example.');
  const origin = Name.parse('example.');
  for (const relative of [false, true]) {
    const text = printZone(records, { origin, relative });
    const again = parseZoneText(text, { origin: '.' });
    assert.equal(printZone(again, { origin, relative }), text);
  }
});
