// RFC 9460 Appendix D vectors as shipped with dnspython: svcb_test_vectors.text holds SVCB RDATA
// in presentation form, svcb_test_vectors.generic the same entries in RFC 3597 `\#` form.
// Every entry must: parse from text to exactly the generic bytes; decode from the generic form;
// print to text that parses back to the same bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { conformanceDir } from './dir.js';
import { Name, RRType, Tokens, encodeRdata, rdataFromText, rdataToText, type Token } from '../../src/wire/index.js';

/** Splits a file into entries: one per record, joining lines inside parentheses, dropping comments. */
function entries(text: string): Token[][] {
  const out: Token[][] = [];
  let cur: Token[] = [];
  let depth = 0;
  text.split('\n').forEach((line, i) => {
    let inQuote = false;
    for (let j = 0; j < line.length; j++) {
      const c = line[j];
      if (c === '\\') j++;
      else if (c === '"') inQuote = !inQuote;
      else if (!inQuote && c === ';') break;
      else if (!inQuote && c === '(') depth++;
      else if (!inQuote && c === ')') depth--;
    }
    cur.push(...Tokens.fromString(line, i + 1).list);
    if (depth === 0 && cur.length) {
      out.push(cur);
      cur = [];
    }
  });
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('RFC 9460 Appendix D vectors (dnspython svcb_test_vectors): text and generic forms agree', (t) => {
  const dir = join(conformanceDir(), 'dnspython-tests');
  const texts = entries(readFileSync(join(dir, 'svcb_test_vectors.text'), 'utf8'));
  const generics = entries(readFileSync(join(dir, 'svcb_test_vectors.generic'), 'utf8'));
  assert.equal(texts.length, generics.length);
  assert.ok(texts.length >= 10, 'all vectors found');
  let pass = 0;
  const origin = Name.parse('example.');
  for (let i = 0; i < texts.length; i++) {
    const fromText = encodeRdata(RRType.SVCB, rdataFromText(RRType.SVCB, new Tokens(texts[i]!), origin));
    const generic = rdataFromText(RRType.SVCB, new Tokens(generics[i]!), origin);
    const fromGeneric = encodeRdata(RRType.SVCB, generic);
    assert.equal(hex(fromText), hex(fromGeneric), `entry ${i + 1} (line ${texts[i]![0]!.line}): text and generic wire`);
    const printed = rdataToText(RRType.SVCB, generic);
    const reparsed = encodeRdata(RRType.SVCB, rdataFromText(RRType.SVCB, Tokens.fromString(printed), origin));
    assert.equal(hex(reparsed), hex(fromGeneric), `entry ${i + 1}: "${printed}" parses back`);
    t.diagnostic(`entry ${i + 1}: ${printed}`);
    pass++;
  }
  t.diagnostic(`svcb_test_vectors: ${pass}/${texts.length} pass`);
  assert.equal(pass, 10);
});
