// The benchmark's query mix: deterministic, in the advertised proportions, and asking for names
// that exist (or, for NXDOMAIN, do not) in the zone gen-zone writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateZone, GEN_ORIGIN } from '../../bench/gen-zone.js';
import { generateQueries, hostsForRecords, QUERY_MIX, toDnsperfInput, type QueryKind } from '../../bench/queries.js';
import { Name, RRType } from '../../src/wire/index.js';
import { readZoneFile } from '../../src/zone/parser.js';

test('same arguments give the same queries; other arguments give others', () => {
  const a = toDnsperfInput(generateQueries(11_000, 2000));
  const b = toDnsperfInput(generateQueries(11_000, 2000));
  assert.equal(a, b);
  assert.notEqual(a, toDnsperfInput(generateQueries(5_000, 2000)));
  assert.equal(a.split('\n').length, 2001);
  assert.match(a.split('\n')[0]!, /^\S+\.bench\.test\. [A-Z]+$/i);
});

test('the mix follows QUERY_MIX within a few percent', () => {
  const n = 20_000;
  const counts = new Map<QueryKind, number>();
  for (const q of generateQueries(11_000, n)) counts.set(q.kind, (counts.get(q.kind) ?? 0) + 1);
  for (const [kind, pct] of Object.entries(QUERY_MIX)) {
    const got = (100 * (counts.get(kind as QueryKind) ?? 0)) / n;
    assert.ok(Math.abs(got - pct) < 1.5, `${kind}: ${got.toFixed(2)}% vs ${pct}%`);
  }
  assert.equal(Object.values(QUERY_MIX).reduce((s, v) => s + v, 0), 100);
});

test('excluded kinds never appear (resolver runs leave out referrals)', () => {
  const qs = generateQueries(11_000, 5000, { exclude: ['referral'] });
  assert.equal(qs.filter((q) => q.kind === 'referral').length, 0);
  assert.ok(qs.some((q) => q.kind === 'a'));
  assert.throws(() => generateQueries(100, 10, { exclude: Object.keys(QUERY_MIX) as QueryKind[] }), /excluded/);
});

test('some names come in mixed case, the rest in lower case', () => {
  const qs = generateQueries(11_000, 5000);
  const mixed = qs.filter((q) => q.name !== q.name.toLowerCase()).length;
  assert.ok(mixed > 50 && mixed < 500, `mixed-case names: ${mixed}`);
  assert.equal(generateQueries(11_000, 2000, { mixedCase: 0 }).filter((q) => q.name !== q.name.toLowerCase()).length, 0);
});

test('every query asks about the zone gen-zone wrote: existing names exist, NXDOMAIN names do not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-queries-'));
  try {
    const records = 2_205;
    const file = join(dir, 'z.zone');
    await generateZone(file, records);
    const origin = Name.parse(GEN_ORIGIN);
    const owners = new Map<string, Set<number>>();
    const cuts = new Set<string>();
    for await (const rr of readZoneFile(file, { origin })) {
      const set = owners.get(rr.name.key) ?? new Set<number>();
      set.add(rr.type);
      owners.set(rr.name.key, set);
      if (rr.type === RRType.NS && rr.name.key !== origin.key) cuts.add(rr.name.key);
    }
    // hostsForRecords matches what gen-zone wrote: the last host exists, the next one does not.
    const hosts = hostsForRecords(records);
    assert.ok(owners.has(`h${(hosts - 1).toString(36)}.${GEN_ORIGIN}`), 'last host present');
    const qs = generateQueries(records, 3000);
    const type: Record<string, number> = { A: RRType.A, AAAA: RRType.AAAA, MX: RRType.MX, TXT: RRType.TXT, SRV: RRType.SRV };
    let checked = 0;
    for (const q of qs) {
      const key = q.name.toLowerCase();
      const types = owners.get(key);
      switch (q.kind) {
        case 'nxdomain':
          assert.equal(types, undefined, q.name);
          break;
        case 'cname':
          assert.ok(types?.has(RRType.CNAME), `${q.name} is a CNAME`);
          break;
        case 'nodata':
          assert.ok(types && !types.has(type[q.type]!) && !types.has(RRType.CNAME), `${q.name} ${q.type} is NODATA`);
          break;
        case 'referral':
          assert.ok(cuts.has(key.slice(key.indexOf('.') + 1)), `${q.name} is below a delegation`);
          break;
        default:
          assert.ok(types?.has(type[q.type]!), `${q.name} ${q.type} exists`);
      }
      checked++;
    }
    t.diagnostic(`checked ${checked} queries against ${owners.size} owner names`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
