// Unbound's record vectors (testdata/test_ldnsrr.N with .cN): for each record line of the zone
// text, the .cN file holds its uncompressed wire form (hex) and ldns's canonical text.
// A case passes when
//   1. our parse of the zone line encodes to the hex,
//   2. the hex decodes, and our text of it parses back to the same hex,
//   3. ldns's text parses to the same hex.
// Whether our text equals ldns's text is counted separately (presentation choices differ; see
// src/wire/README.md). The expected failures and text-match counts are pinned so a regression
// (or an improvement) fails the test until the numbers here are updated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { conformanceDir } from './dir.js';
import { Name, WireReader, WireWriter, readRecord, recordFromText, recordToText, writeRecord, type ResourceRecord } from '../../src/wire/index.js';

interface Expectation {
  /** Line numbers (in test_ldnsrr.N) that are not expected to pass, with the reason. */
  failures: Record<number, string>;
  /** How many records print exactly as ldns prints them. */
  textSame: number;
}

const expected: Record<number, Expectation> = {
  1: { failures: {}, textSame: 5735 },
  2: { failures: {}, textSame: 1430 },
  3: { failures: {}, textSame: 510 },
  4: {
    failures: {
      33: 'LOC "42N 71 06 18.3W": ldns accepts the hemisphere glued to the number; RFC 1876 and BIND need a separate token',
    },
    textSame: 39,
  },
  5: {
    failures: {
      57: 'MX 10 "foo bar.nl": ldns turns the quoted name into the label `"foo`; we read it as the name "foo bar.nl."',
      143: 'TXT Test-String"Test-String": ldns keeps the quotes inside one string; our tokenizer starts a new quoted string at `"`',
      177: 'NSAP-PTR: ldns encodes it as a character-string; RFC 1348 defines a domain name',
      178: 'NSAP-PTR: as line 177',
    },
    textSame: 79,
  },
};

function encodeRecord(rr: ResourceRecord): string {
  const w = new WireWriter(65535, 512, false);
  writeRecord(w, rr, false);
  return Buffer.from(w.finish()).toString('hex').toUpperCase();
}

function decodeRecord(hex: string): ResourceRecord {
  const buf = new Uint8Array(Buffer.from(hex, 'hex'));
  const r = new WireReader(buf);
  const rr = readRecord(r);
  if (r.pos !== buf.length) throw new Error(`${buf.length - r.pos} bytes after the record`);
  return rr;
}

/** Record lines of the zone text with their line numbers; a leading blank owner means the origin (root), as ldns reads them. */
function recordLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith(';')) return;
    out.push({ line: i + 1, text: /^\s/.test(raw) ? '@ ' + trimmed : raw });
  });
  return out;
}

/** ldns appends comments such as `;{id = 2642}`; they are not part of the record. */
function stripComment(text: string): string {
  return text.replace(/\s*;\{[^}]*\}\s*$/, '').replace(/\s*;\{id = [^\n]*$/, '');
}

const normalise = (s: string): string => s.trim().split(/\s+/).join(' ');

for (const n of [1, 2, 3, 4, 5]) {
  test(`unbound test_ldnsrr.${n}: zone text, wire hex and ldns text agree`, (t) => {
    const dir = join(conformanceDir(), 'unbound-testdata', 'vectors');
    const lines = recordLines(readFileSync(join(dir, `test_ldnsrr.${n}`), 'latin1'));
    const canon = readFileSync(join(dir, `test_ldnsrr.c${n}`), 'latin1').split('\n').filter((l) => l !== '');
    assert.equal(canon.length, lines.length * 2, 'one hex line and one text line per record');
    let pass = 0;
    let textSame = 0;
    const failures: Record<number, string> = {};
    const textDiffs: string[] = [];
    lines.forEach(({ line, text }, i) => {
      const hex = canon[i * 2]!.trim();
      const ldnsText = stripComment(canon[i * 2 + 1]!);
      const problems: string[] = [];
      try {
        const got = encodeRecord(recordFromText(text, Name.root, 3600));
        if (got !== hex) problems.push(`zone text encodes to ${got}`);
      } catch (e) {
        problems.push(`zone text: ${(e as Error).message}`);
      }
      try {
        const rr = decodeRecord(hex);
        const ours = recordToText(rr);
        const again = encodeRecord(recordFromText(ours, Name.root, 3600));
        if (again !== hex) problems.push(`our text "${ours}" encodes to ${again}`);
        if (normalise(ours) === normalise(ldnsText)) textSame++;
        else textDiffs.push(`${line}: ours "${normalise(ours).slice(0, 160)}" ldns "${normalise(ldnsText).slice(0, 160)}"`);
      } catch (e) {
        problems.push(`wire: ${(e as Error).message}`);
      }
      try {
        const got = encodeRecord(recordFromText(ldnsText, Name.root, 3600));
        if (got !== hex) problems.push(`ldns text encodes to ${got}`);
      } catch (e) {
        problems.push(`ldns text: ${(e as Error).message}`);
      }
      if (problems.length) failures[line] = problems.join('; ');
      else pass++;
    });
    const exp = expected[n]!;
    t.diagnostic(`test_ldnsrr.${n}: ${pass}/${lines.length} pass, ${Object.keys(failures).length} fail, ${textSame}/${lines.length} print like ldns`);
    for (const [line, why] of Object.entries(failures)) t.diagnostic(`  fail line ${line}: ${why.slice(0, 300)}`);
    if (process.env.WIRE_VECTORS_VERBOSE) for (const d of textDiffs) t.diagnostic(`  text ${d}`);
    assert.deepEqual(Object.keys(failures).map(Number), Object.keys(exp.failures).map(Number), 'failing lines');
    assert.equal(pass, lines.length - Object.keys(exp.failures).length);
    assert.equal(textSame, exp.textSame, 'records printed exactly like ldns');
  });
}
