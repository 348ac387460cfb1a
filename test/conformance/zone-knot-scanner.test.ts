// Knot DNS libzscanner cases (knot-3.2.6/libzscanner-data): each X.in is scanned with origin
// "." and default TTL 0; X.out lists, in order, every accepted record as hex wire fields and
// every rejected entry as WARNG=/ERROR=. We compare the accepted records exactly (owner, class,
// TTL, type, RDATA bytes) and the number of rejected entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToHex, codecFor, hasCodec, Name, typeFromString, WireWriter, type ResourceRecord } from '../../src/wire/index.js';
import { parseZoneText, ZoneError } from '../../src/zone/parser.js';
import { conformanceDir } from './dir.js';

const dir = join(conformanceDir(), 'knot-3.2.6', 'libzscanner-data');

interface Expected {
  records: string[];
  errors: string[];
}

function readOut(path: string): Expected {
  const records: string[] = [];
  const errors: string[] = [];
  for (const block of readFileSync(path, 'utf8').split('------')) {
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1).trim());
    }
    if (fields.has('WARNG')) errors.push(fields.get('WARNG')!);
    else if (fields.has('ERROR')) errors.push(fields.get('ERROR')!);
    else if (fields.has('OWNER')) {
      records.push([fields.get('OWNER'), fields.get('CLASS'), fields.get('RRTTL'), fields.get('RTYPE'), fields.get('RDATA')].join(' '));
    }
  }
  return { records, errors };
}

function hex16(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

/** Knot prints RDATA names uncompressed and case preserved: a writer that never compresses. */
class FlatWriter extends WireWriter {
  override name(n: Name, _compress = true, canonical = false): void {
    super.name(n, false, canonical);
  }
}

function recordHex(rr: ResourceRecord): string {
  let rdata: Uint8Array;
  if (rr.data instanceof Uint8Array) rdata = rr.data;
  else {
    const w = new FlatWriter(65535, 64);
    codecFor(rr.type).toWire(w, rr.data, false);
    rdata = w.finish();
  }
  return [bytesToHex(rr.name.toWire()), hex16(rr.class), rr.ttl.toString(16).toUpperCase().padStart(8, '0'), hex16(rr.type), bytesToHex(rdata)].join(' ');
}

/** Length of the longest common subsequence: how many expected records we reproduced, in order. */
function lcs(a: string[], b: string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * Parser cases (directives, owners, TTLs, includes) where we knowingly differ from Knot, with
 * the number of entries (records + rejections) we still match. A change in either direction
 * fails the test: update this table and the README.
 */
const ACCEPTED: Record<string, { matched: number; reason: string }> = {
  '00-2_general': { matched: 0, reason: 'CRLF line ends are accepted (as BIND does); Knot refuses them' },
  '01_owner': { matched: 28, reason: 'owners "&" and "@@" are accepted (BIND takes any character in a label; Knot only letters, digits and a few marks); so is the continuation line after "&"' },
  '02_class': { matched: 3, reason: 'CLASS1 is the RFC 3597 spelling of IN and is accepted; Knot refuses that notation' },
  '04-1_ORIGIN': { matched: 0, reason: 'a relative $ORIGIN is appended to the current origin, as BIND does; Knot refuses it' },
  '04-2_ORIGIN': { matched: 0, reason: '"$ORIGIN %" is a relative name to BIND and us; Knot refuses the character' },
  '06-0_INCLUDE': { matched: 17, reason: '$TTL set inside an included file stays in force after it (BIND); Knot restores the including file\'s TTL' },
  '06-1_INCLUDE': { matched: 0, reason: 'a relative $INCLUDE origin is appended to the current origin (BIND); Knot refuses it' },
  '06-2_INCLUDE': { matched: 0, reason: '"%" as a relative $INCLUDE origin is accepted (BIND); Knot refuses the character' },
  '06-6_INCLUDE': { matched: 1, reason: 'an error inside an included file is reported once; Knot adds ZS_UNPROCESSED_INCLUDE' },
  '06-7_INCLUDE': { matched: 1, reason: 'an error inside an included file is reported once; Knot adds ZS_UNPROCESSED_INCLUDE' },
};

/**
 * Record-type cases judge the RDATA codecs of src/wire/rdata more than this parser; their
 * differences from Knot (names with "&" or "$" accepted as BIND does, TXT strings over 255
 * bytes refused instead of split, empty digests, base32/base64 padding rules, ...) belong to
 * those codecs. They must not fall below these counts (what matched when this was written);
 * any file not listed must match exactly.
 */
const CODEC_FLOOR: Record<string, number> = {
  '12_TXT': 25, '14_NS': 30, '18_MX': 14, '26_SRV': 18, '29_CERT': 50, '30_KEY': 23, '31_DNSKEY': 24,
  '33_DS': 16, '34_SSHFP': 14, '35_IPSECKEY': 22, '36_RRSIG': 36, '38_DHCID': 16, '39_NSEC3': 26,
  '41_TLSA': 14, '42_LOC': 55, '47_L64': 16, '49_CDS': 16, '50_CDNSKEY': 24, '52_CAA': 14,
  '54_OPENPGPKEY': 4, '56_ZONEMD': 14, '57_SVCB': 78, '58_HTTPS': 10,
};

/** Record-type files (`26_SRV`) depend on the wire codec of that type. */
function fileType(name: string): number | undefined {
  const m = /^[0-9]+_([A-Z0-9]+)$/.exec(name);
  if (!m || m[1] === 'TYPE') return undefined;
  return typeFromString(m[1]!);
}

const cases = readdirSync(dir).filter((f) => f.endsWith('.in')).map((f) => f.slice(0, -3)).sort();

test('knot libzscanner data: every case file is present', () => {
  const listed = readFileSync(join(dir, 'TESTS'), 'utf8').split('\n').map((s) => s.trim()).filter(Boolean);
  assert.ok(cases.length >= 80, `found ${cases.length} cases`);
  for (const name of listed) assert.ok(cases.includes(name), `${name} listed in TESTS but missing`);
});

let totalMatched = 0;
let totalEntries = 0;
const pending: string[] = [];

for (const name of cases) {
  test(`knot libzscanner ${name}`, (t) => {
    const type = fileType(name);
    const expected = readOut(join(dir, `${name}.out`));
    const text = readFileSync(join(dir, `${name}.in`), 'utf8').replaceAll('@TMPDIR@', dir);
    const errors: ZoneError[] = [];
    const records = parseZoneText(text, {
      origin: Name.root,
      defaultTtl: 0,
      file: join(dir, `${name}.in`),
      onError: (e) => errors.push(e),
    });
    const got = records.map(recordHex);
    const matchedRecords = lcs(got, expected.records);
    const matched = matchedRecords + Math.min(errors.length, expected.errors.length);
    const entries = expected.records.length + expected.errors.length;
    const extra = got.length - matchedRecords + Math.max(0, errors.length - expected.errors.length);
    const exact = matched === entries && extra === 0;
    t.diagnostic(`${name}: ${matched}/${entries} entries match${extra ? `, ${extra} unexpected` : ''}`);
    if (type !== undefined && !hasCodec(type)) {
      // The codec of this type is not in src/wire yet: count, do not judge.
      pending.push(name);
      t.diagnostic(`${name}: no codec registered for this type yet; not judged`);
      return;
    }
    totalMatched += matched;
    totalEntries += entries;
    const floor = CODEC_FLOOR[name];
    if (floor !== undefined) {
      assert.ok(matched >= floor, `${name}: ${matched}/${entries} match, below the ${floor} matched before`);
      if (exact) t.diagnostic(`${name} now matches Knot exactly: remove it from CODEC_FLOOR`);
      return;
    }
    const accepted = ACCEPTED[name];
    if (accepted) {
      assert.ok(!exact, `${name} now matches Knot exactly: remove it from ACCEPTED`);
      assert.equal(matched, accepted.matched, `${name}: matched entries changed (${accepted.reason})`);
      return;
    }
    const diff = got.filter((g) => !expected.records.includes(g)).slice(0, 3);
    const missing = expected.records.filter((g) => !got.includes(g)).slice(0, 3);
    assert.ok(exact, `${name}: ${matched}/${entries} match; errors ours ${errors.length} (${errors.slice(0, 3).map((e) => e.message).join(' | ')}) vs Knot ${expected.errors.length} (${expected.errors.join(',')}); unexpected ${diff.join(' ; ')}; missing ${missing.join(' ; ')}`);
  });
}

test('knot libzscanner: summary', (t) => {
  t.diagnostic(`judged entries matched: ${totalMatched}/${totalEntries}; files waiting for a codec: ${pending.length} (${pending.join(', ')})`);
  assert.ok(totalEntries > 0);
});
