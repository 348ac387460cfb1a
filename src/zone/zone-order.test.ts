import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Name, recordFromText, type ResourceRecord } from '../wire/index.js';
import { buildZone, type Zone, type ZoneNode } from './zone.js';
import { lookup } from '../authoritative/lookup.js';

// The canonical order of a zone's nodes is sorted on first use (Zone.nodes) or in slices
// (Zone.prepareOrder), not by the compile. These tests check that a zone answers the same before
// and after, and that the order it ends with is the one sorted at once.

const origin = Name.parse('example.');

/** A zone of many shapes, records in a scrambled order: ENTs, cuts, glue, DNAME, wildcards. */
function records(seed: number): ResourceRecord[] {
  const lines = ['@ 3600 SOA ns hostmaster 1 3600 600 86400 300', '@ NS ns', 'ns A 192.0.2.1'];
  for (let i = 0; i < 300; i++) {
    const h = `h${(i * 7919) % 1000}`;
    switch (i % 10) {
      case 0: lines.push(`${h} A 10.0.${i >> 8}.${i & 255}`); break;
      case 1: lines.push(`_sip._tcp.${h} SRV 10 5 5060 sip.${h}`); break;
      case 2: lines.push(`sub${i} NS ns.sub${i}`, `ns.sub${i} A 10.1.0.${i & 255}`, `deep.below.sub${i} TXT "occluded"`); break;
      case 3: lines.push(`*.w${i} TXT "wild"`, `x.w${i} A 10.2.0.1`); break;
      case 4: lines.push(`d${i} DNAME target.example.`, `under.d${i} A 10.3.0.1`); break;
      case 5: lines.push(`a.b.c.e${i} MX 10 mail.${h}`); break;
      case 6: lines.push(`${h.toUpperCase()}x AAAA 2001:db8::${i.toString(16)}`); break;
      case 7: lines.push(`\\200.z${i} TXT "octet"`, `\\001.z${i} TXT "octet"`, `z${i} TXT "z"`); break;
      default: lines.push(`c${i} CNAME ${h}`);
    }
  }
  // Deterministic shuffle after the SOA (xorshift).
  let x = seed;
  const rest = lines.slice(1);
  for (let i = rest.length - 1; i > 0; i--) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    const j = x % (i + 1);
    [rest[i], rest[j]] = [rest[j]!, rest[i]!];
  }
  return [lines[0]!, ...rest].map((l) => recordFromText(l, origin));
}

/** What a node answers with, independent of any order. */
function shape(node: ZoneNode | undefined): string {
  if (!node) return 'none';
  return [node.name.key, node.flags, node.above?.name.key ?? '-', node.wild?.name.key ?? '-', node.parent?.name.key ?? '-',
    node.rrsets.map((s) => `${s.type}:${s.records.length}:${(s.additional ?? []).map((a) => a.name.key + '/' + a.type).join(',')}`).join(' ')].join('|');
}

function answers(z: Zone, names: Name[]): string[] {
  return names.flatMap((n) => [1, 16, 28, 15].map((t) => {
    const r = lookup(z, n, t);
    return `${r.kind}:${r.answer.length}:${r.authority.length}:${r.additional.length}`;
  }));
}

const probes = (rs: ResourceRecord[]): Name[] => [...rs.map((r) => r.name), Name.parse('nothing.example.'), Name.parse('q.w3.example.'), Name.parse('x.under.d4.example.'), Name.parse('a.sub2.example.')];

test('a zone answers the same before and after its nodes are sorted; the order equals one sorted at once', () => {
  for (const seed of [1, 2, 3]) {
    const rs = records(seed);
    const eager = buildZone(origin, rs);
    const eagerOrder = eager.nodes.map((n) => n.name.key);
    const lazy = buildZone(origin, rs);
    const names = eager.nodes.map((n) => n.name);
    // Before sorting: every node found by name, with the same flags, cuts, wildcards, targets.
    const before = names.map((n) => shape(lazy.getNode(n)));
    assert.deepEqual(before, names.map((n) => shape(eager.getNode(n))), `seed ${seed}: nodes before sorting`);
    assert.deepEqual(answers(lazy, probes(rs)), answers(eager, probes(rs)), `seed ${seed}: lookups before sorting`);
    assert.equal(lazy.nodeCount, eager.nodeCount);
    // Sorting renumbers the table's slots: every name still found, nothing else changed.
    assert.deepEqual(lazy.nodes.map((n) => n.name.key), eagerOrder, `seed ${seed}: canonical order`);
    lazy.nodes.forEach((n, i) => assert.equal(n.index, i));
    assert.deepEqual(names.map((n) => shape(lazy.getNode(n))), before, `seed ${seed}: nodes after sorting`);
    assert.deepEqual(answers(lazy, probes(rs)), answers(eager, probes(rs)), `seed ${seed}: lookups after sorting`);
    assert.deepEqual([...lazy.records()].length, eager.recordCount);
  }
});

test('prepareOrder sorts in slices; a `nodes` read during it wins and the slices stop', async () => {
  const rs = records(7);
  const eagerOrder = buildZone(origin, rs).nodes.map((n) => n.name.key);
  // Without interference: same order as sorting at once, and the pause was awaited.
  const z1 = buildZone(origin, rs);
  let pauses = 0;
  await z1.prepareOrder(async () => { pauses++; });
  assert.ok(pauses > 0, 'the sort yielded between slices');
  assert.deepEqual(z1.nodes.map((n) => n.name.key), eagerOrder);
  // A synchronous read in the middle sorts at once; the sliced sort must not renumber again.
  const z2 = buildZone(origin, rs);
  let reads = 0;
  await z2.prepareOrder(async () => {
    if (reads++ === 1) assert.equal(z2.nodes.length, eagerOrder.length);
  });
  assert.ok(reads >= 2);
  assert.deepEqual(z2.nodes.map((n) => n.name.key), eagerOrder);
  for (const r of rs) assert.equal(z2.getNode(r.name)?.name.key, r.name.key, `${r.name} found after both`);
  // Sorted already: nothing to do.
  let again = 0;
  await z2.prepareOrder(async () => { again++; });
  assert.equal(again, 0);
});
