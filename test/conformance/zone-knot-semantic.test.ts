// Knot's semantic_check_data with EXPECTATIONS.json (from kzonecheck), where it concerns the
// checks that are not DNSSEC: CNAME/DNAME conflicts, NS at the apex, glue. Knot's severities
// differ from ours in two places, as documented in src/zone/README.md: data below a DNAME is a
// warning here (BIND loads such zones), and missing glue at a delegation is a warning (BIND
// loads those too); an apex server name that is authoritative here without an address is an error
// for all three.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Name } from '../../src/wire/index.js';
import { checkZone } from '../../src/zone/checks.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { conformanceDir } from './dir.js';

const dir = join(conformanceDir(), 'knot-3.2.6', 'semantic_check_data');

interface Case { file: string; expect: string; count?: number; code?: string }
const cases: Case[] = JSON.parse(readFileSync(join(dir, 'EXPECTATIONS.json'), 'utf8')).cases;

const NON_DNSSEC = new Set(['CNAME_EXTRA_RECORDS', 'CNAME_MULTIPLE', 'DNAME_CHILDREN', 'DNAME_MULTIPLE', 'DNAME_EXTRA_NS', 'NS_APEX', 'NS_GLUE']);
const origin = Name.parse('example.com.');

function run(file: string) {
  const records = parseZoneText(readFileSync(join(dir, file), 'utf8'), { origin, file });
  return checkZone(origin, records);
}

let judged = 0;
for (const c of cases) {
  if (c.expect === 'error' && !NON_DNSSEC.has(c.code!)) continue;
  judged++;
  test(`knot semantic ${c.file}: ${c.expect}${c.code ? ' ' + c.code : ''}`, () => {
    const r = run(c.file);
    if (c.expect === 'error') {
      const found = [...r.errors, ...r.warnings].filter((f) => f.code === c.code);
      assert.equal(found.length, c.count, `${c.code}: ${found.map((f) => f.message).join('; ')}`);
      const other = r.errors.filter((f) => f.code !== c.code);
      assert.deepEqual(other.map((f) => f.code), [], 'no other errors');
    } else {
      // "valid" and "valid-when-dnssec-checks-off": loads without errors.
      assert.deepEqual(r.errors.map((f) => `${f.code}: ${f.message}`), []);
    }
  });
}

test('knot semantic: summary', (t) => {
  t.diagnostic(`${judged} of ${cases.length} expectations are non-DNSSEC and judged here`);
  assert.equal(judged, 55);
});
