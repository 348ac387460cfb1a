// ZoneBuilder: the streaming form of buildZone. Same tree as buildZone, events for the records
// it does not load as given, and nodes in canonical order (RFC 4034 §6.1) even for labels with
// upper case, escapes and NUL octets (the order is a tree walk, checked against Name.compare).
// Packed one-record sets give the same records and answers as ordinary ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalIPv4, Name, RRClass, RRType, recordToText, type ResourceRecord } from '../../src/wire/index.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { buildZone, isPackedRRset, packedForm, ZoneBuildError, ZoneBuilder, type RecordEvent } from '../../src/zone/zone.js';
import { generateZoneKey } from '../../src/dnssec/keys.js';
import { DEFAULT_POLICY, signZone } from '../../src/dnssec/signer.js';
import { lookup } from '../../src/authoritative/lookup.js';
import { fixtureRecords, ORIGIN } from './dnssec-fixture.js';

const origin = Name.parse('b.test.');
const text = `$TTL 300
@ SOA ns h 1 2 3 4 5
@ NS ns
ns A 192.0.2.1
www A 192.0.2.2
www A 192.0.2.2
www 60 A 192.0.2.3
a.b.c A 192.0.2.4
other.example. A 192.0.2.5
*.w TXT "wild"
`;

test('events: outside (skip), duplicate, ttl; count and the tree match buildZone', () => {
  const records = parseZoneText(text, { origin });
  const events: [RecordEvent, string, number][] = [];
  const b = new ZoneBuilder(origin, { outside: 'skip', onRecord: (e, rr, ttl) => events.push([e, recordToText(rr), ttl]) });
  const added = records.map((rr) => b.add(rr));
  assert.deepEqual(added, [true, true, true, true, false, true, true, false, true]);
  assert.deepEqual(events, [
    ['duplicate', 'www.b.test.\t300\tIN\tA\t192.0.2.2', 300],
    ['ttl', 'www.b.test.\t60\tIN\tA\t192.0.2.3', 300],
    ['outside', 'other.example.\t300\tIN\tA\t192.0.2.5', 300],
  ]);
  assert.equal(b.count, 7);
  const zone = b.finish();
  const reference = buildZone(origin, records.filter((rr) => rr.name.isSubdomainOf(origin)));
  const print = (z: typeof zone): string[] => [...z.records()].map((rr) => recordToText(rr));
  assert.deepEqual(print(zone), print(reference));
  assert.deepEqual(zone.nodes.map((n) => n.name.toString()), reference.nodes.map((n) => n.name.toString()));
  assert.equal(zone.recordCount, reference.recordCount);
  assert.ok(zone.getNode(Name.parse('b.c.b.test.'))?.isEmptyNonTerminal);
  assert.equal(zone.getNode(Name.parse('w.b.test.'))?.wild?.name.toString(), '*.w.b.test.');
  assert.throws(() => b.add(records[0]!), /after finish/);
  assert.throws(() => b.finish(), /twice/);
});

test('by default an out-of-zone record throws, as buildZone does; no SOA throws at finish', () => {
  const records = parseZoneText(text, { origin });
  const b = new ZoneBuilder(origin);
  assert.throws(() => { for (const rr of records) b.add(rr); }, ZoneBuildError);
  const noSoa = new ZoneBuilder(origin);
  noSoa.add(records[2]!);
  assert.throws(() => noSoa.finish(), /no SOA/);
});

test('canonical order is Name.compare order for odd labels', (t) => {
  let s = 11;
  const r = (): number => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
  const alphabet = ['a', 'B', 'z', '\x00', '\x01', '*', '-', '\xff', 'A', '.', 'b'];
  const records: ResourceRecord[] = [{ name: origin, type: RRType.SOA, class: RRClass.IN, ttl: 60, data: { mname: origin, rname: origin, serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 1 } }];
  for (let i = 0; i < 600; i++) {
    const labels: string[] = [];
    const depth = 1 + Math.floor(r() * 3);
    for (let d = 0; d < depth; d++) {
      let l = '';
      for (let k = 0, n = 1 + Math.floor(r() * 3); k < n; k++) l += alphabet[Math.floor(r() * alphabet.length)];
      labels.push(l);
    }
    records.push({ name: origin.prepend(...labels), type: RRType.TXT, class: RRClass.IN, ttl: 60, data: { strings: [new Uint8Array([i & 255])] } });
  }
  const zone = buildZone(origin, records);
  const sorted = [...zone.nodes].sort((a, b) => a.name.compare(b.name));
  assert.deepEqual(zone.nodes.map((n) => n.name.key), sorted.map((n) => n.name.key));
  zone.nodes.forEach((n, i) => assert.equal(n.index, i));
  t.diagnostic(`${zone.nodeCount} nodes (empty non-terminals included) in canonical order`);
});

test('canonical order of many siblings: prefixes, octets 0 and 255, case, long labels', (t) => {
  let s = 5;
  const r = (): number => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
  const alphabet = ['a', 'A', 'b', '\x00', '\xff', '\x7f', '0', '-', 'Z', 'z'];
  const records: ResourceRecord[] = [{ name: origin, type: RRType.SOA, class: RRClass.IN, ttl: 60, data: { mname: origin, rname: origin, serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 1 } }];
  for (let i = 0; i < 6000; i++) {
    let l = '';
    // Mostly short labels sharing prefixes, some up to 63 octets.
    const n = r() < 0.05 ? 1 + Math.floor(r() * 63) : 1 + Math.floor(r() * 6);
    for (let k = 0; k < n; k++) l += alphabet[Math.floor(r() * alphabet.length)];
    const parent = r() < 0.5 ? [] : ['p'];
    records.push({ name: origin.prepend(l, ...parent), type: RRType.A, class: RRClass.IN, ttl: 60, data: { address: '192.0.2.1' } });
  }
  // Long shared prefixes: ties after the first six and twelve octets.
  for (let i = 0; i < 500; i++) {
    const label = (i % 2 ? 'customer-Prefix-' : 'customer-') + String(i * 7919 % 1000).padStart(i % 3 ? 4 : 1, '0');
    records.push({ name: origin.prepend(label), type: RRType.A, class: RRClass.IN, ttl: 60, data: { address: '192.0.2.1' } });
  }
  const zone = buildZone(origin, records);
  const sorted = [...zone.nodes].sort((a, b) => a.name.compare(b.name));
  assert.deepEqual(zone.nodes.map((n) => n.name.key), sorted.map((n) => n.name.key));
  const apexChildren = zone.nodes.filter((n) => n.parent === zone.apex).length;
  assert.ok(apexChildren > 300, `${apexChildren} children of the apex`);
  t.diagnostic(`${zone.nodeCount} nodes, ${apexChildren} children of the apex, in canonical order`);
});

test('packed sets (pack: true): the same records, the same answers, plain and signed', (t) => {
  const extra = parseZoneText(`$TTL 3600
many A 192.0.2.10
many A 192.0.2.11
many A 192.0.2.10
late A 192.0.2.12
late 60 A 192.0.2.13
txt TXT "a\\"b" "" "\\255\\000 x"
txt2 TXT "one"
txt2 TXT "two"
spf SPF "v=spf1 -all"
v6 AAAA 2001:db8::1
hi A 255.255.255.255
hi2 A 203.0.113.128
zero A 0.0.0.0
odd A 010.0.0.1
*.w2 A 192.0.2.14
mx0 MX 0 Mail
mx1 MX 65535 host.other.test.
mxin MX 5 v6
mx2 MX 1 mail
mx2 MX 2 v6
ptr PTR www
cn2 CNAME hi
cn3 CNAME nowhere.other.test.
dn2 DNAME Example.net.
sub NS ns.sub
ns.sub A 192.0.2.15
mxw MX 1 v6
*.mxw TXT "below a packed MX with targets"
`, { origin: ORIGIN });
  const now = 1_700_000_000;
  const key = generateZoneKey(ORIGIN, 13, true, now - 86400);
  const plain = [...fixtureRecords(), ...extra];
  const signed = signZone(ORIGIN, plain, DEFAULT_POLICY, [key], now);
  const text = (rrs: readonly ResourceRecord[]): string[] => rrs.map((rr) => recordToText(rr));
  let packedSets = 0;
  let compared = 0;
  for (const records of [plain, signed]) {
    const build = (pack: boolean) => {
      const b = new ZoneBuilder(ORIGIN, { pack });
      for (const rr of records) b.add(rr);
      return b.finish();
    };
    const packed = build(true);
    const reference = build(false);
    assert.deepEqual(text([...packed.records()]), text([...reference.records()]));
    for (const node of packed.nodes) {
      const ref = reference.getNode(node.name)!;
      assert.deepEqual(node.rrsets.map((s) => [s.type, s.class, s.ttl, s.name.toString()]), ref.rrsets.map((s) => [s.type, s.class, s.ttl, s.name.toString()]));
      // A packed node keeps its set's links in the field of its own (above, wild): all four at once.
      assert.deepEqual([node.flags, node.above?.name.toString(), node.wild?.name.toString()], [ref.flags, ref.above?.name.toString(), ref.wild?.name.toString()], `${node.name}`);
      for (const set of node.rrsets) {
        if (isPackedRRset(set)) packedSets++;
        const targets = (x: typeof set | undefined): string[] => (x?.additional ?? []).map((a) => `${a.name} ${a.type}`);
        assert.deepEqual(targets(set), targets(ref.getRRset(set.type)), `${node.name} ${set.type}`);
        assert.deepEqual(set.records.map((rr) => rr.data), ref.getRRset(set.type)!.records.map((rr) => rr.data));
        assert.deepEqual(text(set.sigs ?? []), text(ref.getRRset(set.type)!.sigs ?? []));
      }
    }
    const names = [...reference.nodes.map((n) => n.name), Name.parse('nope.example.test.'), Name.parse('x.w2.example.test.'), Name.parse('q.wild.example.test.'), Name.parse('a.dn2.example.test.'), Name.parse('x.sub.example.test.')];
    for (const name of names) {
      for (const type of [RRType.A, RRType.AAAA, RRType.TXT, RRType.SPF, RRType.MX, RRType.NS, RRType.CNAME, RRType.PTR, RRType.DNAME, RRType.ANY]) {
        for (const dnssec of [false, true]) {
          const a = lookup(packed, name, type, { do: dnssec });
          const b = lookup(reference, name, type, { do: dnssec });
          assert.deepEqual([a.rcode, a.aa, text(a.answer), text(a.authority), text(a.additional)], [b.rcode, b.aa, text(b.answer), text(b.authority), text(b.additional)], `${name} ${type} ${dnssec}`);
          compared++;
        }
      }
    }
  }
  // Sets of one record of a packed type are packed; the two-record sets are not.
  assert.ok(packedSets >= 40, `${packedSets} packed sets`);
  assert.ok(compared > 300, `${compared} lookups compared`);
  t.diagnostic(`${packedSets} packed sets, ${compared} lookups compared`);
});

test('packed name targets hold the Name of the in-zone owner spelled alike, as records do', () => {
  const origin = Name.parse('t.test.');
  const at = (...labels: string[]): Name => Name.fromLabels([...labels, 't', 'test']); // a new object each time
  const rr = (name: Name, type: number, data: unknown): ResourceRecord => ({ name, type, class: RRClass.IN, ttl: 60, data });
  for (const pack of [true, false]) {
    const b = new ZoneBuilder(origin, { pack });
    b.add(rr(origin, RRType.SOA, { mname: origin, rname: origin, serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 1 }));
    b.add(rr(at('www'), RRType.A, { address: '192.0.2.1' }));
    b.add(rr(at('ns', 'sub'), RRType.A, { address: '192.0.2.2' }));
    b.add(rr(at('alias'), RRType.CNAME, { target: at('www') }));
    b.add(rr(at('mx'), RRType.MX, { preference: 7, exchange: at('www') }));
    b.add(rr(at('sub'), RRType.NS, { target: at('ns', 'sub') }));
    b.add(rr(at('other'), RRType.CNAME, { target: at('WWW') })); // spelled otherwise: not shared
    const zone = b.finish();
    const target = (owner: Name, type: number): Name => {
      const d = zone.getNode(owner)!.getRRset(type)!.records[0]!.data as { target?: Name; exchange?: Name };
      return (d.target ?? d.exchange)!;
    };
    const www = zone.getNode(at('www'))!.name;
    assert.equal(target(at('alias'), RRType.CNAME), www, `pack ${pack}: CNAME`);
    assert.equal(target(at('mx'), RRType.MX), www, `pack ${pack}: MX`);
    assert.equal(target(at('sub'), RRType.NS), zone.getNode(at('ns', 'sub'))!.name, `pack ${pack}: NS`);
    assert.notEqual(target(at('other'), RRType.CNAME), www, `pack ${pack}: other spelling`);
    assert.equal((zone.getNode(at('mx'))!.getRRset(RRType.MX)!.records[0]!.data as { preference: number }).preference, 7);
    assert.equal(packedForm(zone.getNode(at('mx'))!.getRRset(RRType.MX)!), pack ? 'object' : undefined);
    assert.equal(packedForm(zone.getNode(at('alias'))!.getRRset(RRType.CNAME)!), pack ? 'name' : undefined);
  }
});

test('packed A: exactly the canonical addresses are held as numbers, and every address reads back as given', (t) => {
  const origin = Name.parse('p.test.');
  let s = 3;
  const r = (): number => (s = (s * 1103515245 + 12345) & 0x7fffffff);
  const texts = ['0.0.0.0', '255.255.255.255', '128.0.0.1', '01.2.3.4', '1.2.3', '256.0.0.1', '10.0.0.010', '1.2.3.4.', 'a.b.c.d'];
  for (let i = 0; i < 20_000; i++) texts.push([r() % 300, r() % 300, r() % 300, r() % 300].map((x) => (r() % 7 === 0 ? '0' : '') + x).join('.'));
  const b = new ZoneBuilder(origin, { pack: true });
  b.add({ name: origin, type: RRType.SOA, class: RRClass.IN, ttl: 1, data: { mname: origin, rname: origin, serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 1 } });
  texts.forEach((address, i) => b.add({ name: Name.parse(`h${i}`, origin), type: RRType.A, class: RRClass.IN, ttl: 1, data: { address } }));
  const zone = b.finish();
  let packed = 0;
  texts.forEach((address, i) => {
    const set = zone.getNode(Name.parse(`h${i}`, origin))!.getRRset(RRType.A)!;
    assert.ok(isPackedRRset(set), address);
    assert.equal(packedForm(set), canonicalIPv4(address) === address ? 'number' : 'object', address);
    if (packedForm(set) === 'number') packed++;
    assert.equal((set.records[0]!.data as { address: string }).address, address);
  });
  assert.ok(packed > 1000 && packed < texts.length, `${packed} of ${texts.length} packed`);
  t.diagnostic(`${packed} of ${texts.length} addresses held as numbers`);
});

test('prefetch: batches added in order, out of order, in part or not at all build the same tree', () => {
  // Names repeat out of line (a lookup that must hit), share Name objects in runs (one prefetch
  // entry for several records), and records outside the zone sit in between (skipped before
  // their owner is looked up, so the builder must step over their prefetched names).
  const lines = ['$TTL 300', '@ SOA ns h 1 2 3 4 5', '@ NS ns', 'ns A 192.0.2.1'];
  for (let i = 0; i < 400; i++) {
    lines.push(`h${i} A 10.0.${i >> 8}.${i & 255}`);
    if (i % 3 === 0) lines.push(`  TXT "run ${i}"`);
    if (i % 7 === 0) lines.push(`h${i >> 1} AAAA 2001:db8::${i}`);
    if (i % 11 === 0) lines.push(`x${i}.outside.example. A 192.0.2.9`);
    if (i % 13 === 0) lines.push(`h${i} A 10.0.${i >> 8}.${i & 255}`); // a duplicate, out of line
    if (i % 17 === 0) lines.push(`_t._u.h${i} SRV 0 0 1 h${i}`);
  }
  const records = parseZoneText(lines.join('\n') + '\n', { origin });
  const build = (feed: (b: ZoneBuilder) => void): { printed: string[]; events: string[]; nodes: number } => {
    const events: string[] = [];
    const b = new ZoneBuilder(origin, { outside: 'skip', pack: true, onRecord: (e, rr) => events.push(`${e} ${recordToText(rr)}`) });
    feed(b);
    const zone = b.finish();
    return { printed: [...zone.records()].map((rr) => recordToText(rr)), events, nodes: zone.nodeCount };
  };
  const plain = build((b) => { for (const rr of records) b.add(rr); });
  assert.ok(plain.events.some((e) => e.startsWith('duplicate')) && plain.events.some((e) => e.startsWith('outside')));
  const batches = (size: number): ResourceRecord[][] => {
    const out: ResourceRecord[][] = [];
    for (let i = 0; i < records.length; i += size) out.push(records.slice(i, i + size));
    return out;
  };
  for (const size of [1, 5, 64, 1024]) {
    // In order, as loadZoneFile feeds it.
    assert.deepEqual(build((b) => { for (const batch of batches(size)) { b.prefetch(batch); for (const rr of batch) b.add(rr); } }), plain, `in order, batches of ${size}`);
  }
  // Prefetched batches whose records come later, in part, or from another batch: the tree and
  // the events must not change (only the head start is lost).
  const shuffled = build((b) => {
    const all = batches(16);
    for (let k = 0; k < all.length; k++) {
      b.prefetch(all[(k + 1) % all.length]!);
      for (const rr of all[k]!) b.add(rr);
    }
  });
  assert.deepEqual(shuffled.printed, plain.printed);
  assert.equal(shuffled.nodes, plain.nodes);
  assert.deepEqual([...shuffled.events].sort(), [...plain.events].sort());
  const reversedWithin = build((b) => {
    for (const batch of batches(32)) {
      b.prefetch(batch);
      for (let i = batch.length - 1; i >= 0; i--) b.add(batch[i]!);
    }
  });
  assert.deepEqual(reversedWithin.printed, plain.printed);
  assert.equal(reversedWithin.nodes, plain.nodes);
});

test('a packed node tells its own set apart by its TTL field: a record built with TTL -1 keeps it', () => {
  // No zone file gives a negative TTL, but a record built by hand may: it must not read as a
  // node that has stopped being its own set.
  const origin = Name.parse('x.test.');
  const b = new ZoneBuilder(origin, { pack: true });
  b.add({ name: origin, type: RRType.SOA, class: RRClass.IN, ttl: 60, data: { mname: origin, rname: origin, serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 1 } });
  const a = Name.parse('a.x.test.');
  b.add({ name: a, type: RRType.A, class: RRClass.IN, ttl: -1, data: { address: '192.0.2.1' } });
  const node = b.finish().getNode(a)!;
  assert.equal(node.rrsetCount, 1);
  assert.deepEqual(node.rrsetAt(0).records.map((rr) => [rr.ttl, recordToText(rr)]), [[-1, 'a.x.test.\t-1\tIN\tA\t192.0.2.1']]);
});
