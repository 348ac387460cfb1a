import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Name, recordFromText, recordToText, RRType, type ResourceRecord } from '../wire/index.js';
import { ancestorKeys, buildZone, NodeFlag, ZoneBuildError } from './zone.js';
import { coveredType, targetName } from './compile.js';
import { lookup } from '../authoritative/lookup.js';

const origin = Name.parse('example.');
function rrs(text: string, o = origin): ResourceRecord[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith(';')).map((l) => recordFromText(l, o));
}
const SOA = '@ 3600 SOA ns hostmaster 42 3600 600 86400 300';

test('buildZone: no SOA at the apex is a clear error', () => {
  assert.throws(() => buildZone(origin, rrs('@ NS ns\nns A 192.0.2.1')), (e: unknown) => e instanceof ZoneBuildError && /no SOA record at the apex/.test(e.message) && /example\./.test(e.message));
  assert.throws(() => buildZone(origin, rrs('sub SOA ns h 1 2 3 4 5\n@ NS ns')), /no SOA record at the apex/);
});

test('buildZone: out-of-zone data, mixed classes, two SOAs and meta types are refused', () => {
  assert.throws(() => buildZone(origin, rrs(`${SOA}\nwww.example.org. A 192.0.2.1`)), /outside the zone: www\.example\.org\./);
  assert.throws(() => buildZone(origin, rrs(`${SOA}\nwww CH TXT "x"`)), /class differs/);
  assert.throws(() => buildZone(origin, rrs(`${SOA}\n@ SOA ns h 43 3600 600 86400 300`)), /2 SOA records/);
  assert.throws(() => buildZone(origin, rrs(`${SOA}\nx TYPE255 \\# 0`)), /meta type/);
});

test('buildZone: origin, soa, serial, record count; duplicates dropped (RFC 2181 §5)', () => {
  const z = buildZone(origin, rrs(`${SOA}\n@ NS ns\nns A 192.0.2.1\nNS A 192.0.2.1\nns A 192.0.2.2\nwww TXT "a"\nwww TXT "a"`));
  assert.equal(z.origin, origin);
  assert.equal(z.serial, 42);
  assert.equal(z.soa.type, RRType.SOA);
  assert.equal(z.recordCount, 5, 'SOA, NS, two A, one TXT');
  assert.equal([...z.records()].length, z.recordCount);
  assert.equal([...z].length, z.recordCount);
  assert.equal(z.getNode(Name.parse('ns.example.'))!.getRRset(RRType.A)!.records.length, 2);
});

test('buildZone: one TTL per RRset (the first) and one shared owner Name per node', () => {
  const z = buildZone(origin, rrs(`${SOA}\nwww 300 A 192.0.2.1\nWWW 600 A 192.0.2.2\nwww 900 AAAA 2001:db8::1`));
  const node = z.getNode(Name.parse('www.example.'))!;
  const a = node.getRRset(RRType.A)!;
  assert.deepEqual(a.records.map((r) => r.ttl), [300, 300]);
  for (const set of node.rrsets) {
    assert.equal(set.name, node.name);
    for (const r of set.records) assert.equal(r.name, node.name, 'owner Name object shared');
  }
  assert.deepEqual(node.rrsets.map((s) => s.type), [RRType.A, RRType.AAAA], 'types ascending');
});

test('compile: nodes in RFC 4034 §6.1 canonical order (the RFC example)', () => {
  const order = ['example.', 'a.example.', 'yljkjljk.a.example.', 'Z.a.example.', 'zABC.a.EXAMPLE.', 'z.example.', '\\001.z.example.', '*.z.example.', '\\200.z.example.'];
  const shuffled = [...order].reverse();
  const records = [recordFromText(`example. 3600 SOA ns.example. h.example. 1 2 3 4 5`, origin), ...shuffled.slice(0, -1).map((n) => recordFromText(`${n} 3600 TXT "x"`, origin))];
  const z = buildZone(origin, records);
  assert.deepEqual(z.nodes.map((n) => n.name.key), order.map((n) => Name.parse(n).key));
  z.nodes.forEach((n, i) => assert.equal(n.index, i));
});

test('compile: empty non-terminals, parents, delegations, occlusion, DNAME, wildcards', () => {
  const z = buildZone(origin, rrs(`${SOA}
@ NS ns
ns A 192.0.2.1
a.b.c TXT "deep"
sub NS ns.sub
ns.sub A 192.0.2.2
x.y.sub A 192.0.2.3
d DNAME example.net.
under.d A 192.0.2.4
*.w TXT "wild"
`));
  const get = (n: string) => z.getNode(Name.parse(n, origin));
  assert.ok(get('b.c')!.isEmptyNonTerminal && get('c')!.isEmptyNonTerminal);
  assert.equal(get('a.b.c')!.parent, get('b.c'));
  assert.equal(get('b.c')!.parent, get('c'));
  assert.equal(get('c')!.parent, z.apex);
  assert.ok(z.apex.flags & NodeFlag.APEX);
  assert.ok(!(z.apex.flags & NodeFlag.DELEGATION), 'apex NS is not a cut');
  assert.ok(get('sub')!.isDelegation);
  assert.equal(get('ns.sub')!.above, get('sub'));
  assert.equal(get('x.y.sub')!.above, get('sub'));
  assert.ok(get('y.sub')!.isEmptyNonTerminal);
  assert.equal(get('y.sub')!.above, get('sub'));
  assert.ok(get('d')!.flags & NodeFlag.DNAME);
  assert.equal(get('under.d')!.above, get('d'));
  assert.ok(get('ns')!.isAuthoritative && !get('ns.sub')!.isAuthoritative && !get('sub')!.isAuthoritative);
  assert.ok(get('*.w')!.flags & NodeFlag.WILDCARD);
  assert.equal(get('w')!.wild, get('*.w'));
  assert.equal(z.apex.wild, undefined);
});

test('compile: glue for NS (occluded allowed), addresses for MX/SRV (authoritative only)', () => {
  const z = buildZone(origin, rrs(`${SOA}
@ NS ns
@ NS ns.sub
@ MX 10 mail
@ MX 20 ns.sub
ns A 192.0.2.1
mail AAAA 2001:db8::25
sub NS ns.sub
ns.sub A 192.0.2.2
_x._tcp SRV 0 0 80 mail
`));
  const apex = z.apex;
  const nsAdd = apex.getRRset(RRType.NS)!.additional!.map((s) => `${s.name} ${s.type}`);
  assert.deepEqual(nsAdd, ['ns.example. 1', 'ns.sub.example. 1']);
  const mxAdd = apex.getRRset(RRType.MX)!.additional!.map((s) => `${s.name} ${s.type}`);
  assert.deepEqual(mxAdd, ['mail.example. 28'], 'the occluded ns.sub address is not MX additional data');
  const srv = z.getNode(Name.parse('_x._tcp.example.'))!.getRRset(RRType.SRV)!;
  assert.deepEqual(srv.additional!.map((s) => s.name.toString()), ['mail.example.']);
  assert.equal(z.getNode(Name.parse('sub.example.'))!.getRRset(RRType.NS)!.additional!.length, 1);
});

test('closestEncloser: exact, below, ENT, outside', () => {
  const z = buildZone(origin, rrs(`${SOA}\na.b TXT "x"`));
  const ce = (n: string) => z.closestEncloser(Name.parse(n));
  assert.deepEqual([ce('a.b.example.')!.node.name.key, ce('a.b.example.')!.exact], ['a.b.example.', true]);
  assert.deepEqual([ce('q.a.b.example.')!.node.name.key, ce('q.a.b.example.')!.exact], ['a.b.example.', false]);
  assert.deepEqual([ce('b.example.')!.node.name.key, ce('b.example.')!.exact], ['b.example.', true]);
  assert.deepEqual([ce('c.example.')!.node.name.key, ce('c.example.')!.exact], ['example.', false]);
  assert.deepEqual([ce('EXAMPLE.')!.node.name.key, ce('EXAMPLE.')!.exact], ['example.', true]);
  assert.equal(ce('example.org.'), undefined);
  assert.equal(ce('.'), undefined);
});

test('ancestorKeys: slices of the key, escapes and the root', () => {
  assert.deepEqual(ancestorKeys(Name.parse('A.b.C.')), ['a.b.c.', 'b.c.', 'c.', '.']);
  assert.deepEqual(ancestorKeys(Name.parse('a.b.c.'), 2), ['a.b.c.', 'b.c.']);
  assert.deepEqual(ancestorKeys(Name.root), ['.']);
  assert.deepEqual(ancestorKeys(Name.parse('x\\.y.z.')), ['x\\.y.z.', 'z.', '.']);
  assert.deepEqual(ancestorKeys(Name.parse('a\\032b.c.')), ['a\\032b.c.', 'c.', '.']);
});

test('RRSIGs hang on the sets they cover and go out with DO', () => {
  // RRSIG in RFC 3597 form: type covered A (1), then arbitrary bytes; covered type is all we read.
  const z = buildZone(origin, rrs(`${SOA}
www A 192.0.2.1
www RRSIG A 13 2 3600 20300101000000 20200101000000 12345 example. AAAA
`));
  const set = z.getNode(Name.parse('www.example.'))!.getRRset(RRType.A)!;
  assert.equal(set.sigs?.length, 1);
  assert.equal(coveredType(set.sigs![0]!), RRType.A);
  assert.equal(coveredType({ ...set.sigs![0]!, data: Uint8Array.of(0, 28, 1, 2) }), RRType.AAAA);
  const plain = lookup(z, Name.parse('www.example.'), RRType.A);
  const signed = lookup(z, Name.parse('www.example.'), RRType.A, { do: true });
  assert.deepEqual(plain.answer.map((r) => r.type), [RRType.A]);
  assert.deepEqual(signed.answer.map((r) => r.type), [RRType.A, RRType.RRSIG]);
  const sigs = lookup(z, Name.parse('www.example.'), RRType.RRSIG);
  assert.deepEqual(sigs.answer.map((r) => r.type), [RRType.RRSIG], 'qtype RRSIG answers the RRSIG set');
});

test('targetName reads NS, MX, SRV data and opaque SRV RDATA', () => {
  const o = origin;
  assert.equal(targetName(recordFromText('@ NS ns', o))!.toString(), 'ns.example.');
  assert.equal(targetName(recordFromText('@ MX 5 mx', o))!.toString(), 'mx.example.');
  assert.equal(targetName(recordFromText('@ SRV 1 2 3 srv', o))!.toString(), 'srv.example.');
  const opaque = Uint8Array.of(0, 1, 0, 2, 0, 3, 3, 0x73, 0x72, 0x76, 0);
  assert.equal(targetName({ name: o, type: RRType.SRV, class: 1, ttl: 1, data: opaque })!.toString(), 'srv.');
  assert.equal(targetName({ name: o, type: RRType.SRV, class: 1, ttl: 1, data: Uint8Array.of(0, 1, 0) }), undefined);
  assert.equal(targetName(recordFromText('@ TXT "x"', o)), undefined);
});

test('iteration is in canonical order and round-trips every record', () => {
  const text = `${SOA}\n@ NS ns\nz TXT "z"\nns A 192.0.2.1\nb.a TXT "ba"\na TXT "a"`;
  const input = rrs(text);
  const z = buildZone(origin, input);
  const names = [...z.rrsets()].map((s) => s.name.toString());
  assert.deepEqual(names, ['example.', 'example.', 'a.example.', 'b.a.example.', 'ns.example.', 'z.example.']);
  assert.deepEqual([...z.records()].map((r) => recordToText(r)).sort(), input.map((r) => recordToText(r)).sort());
});

test('a 20,000-name zone builds and answers (size report)', (t) => {
  const n = 20_000;
  const recs: ResourceRecord[] = rrs(`${SOA}\n@ NS ns\nns A 192.0.2.1`);
  for (let i = 0; i < n; i++) recs.push(recordFromText(`h${i}.s${i % 100} 300 A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, origin));
  const before = process.memoryUsage().heapUsed;
  const started = process.hrtime.bigint();
  const z = buildZone(origin, recs);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.diagnostic(`${n} names: build ${ms.toFixed(0)} ms, heap +${((process.memoryUsage().heapUsed - before) / 1048576).toFixed(1)} MiB, ${z.nodeCount} nodes`);
  assert.equal(z.recordCount, n + 3);
  assert.equal(z.nodeCount, n + 2 + 100, 'names, apex and ns, and the 100 empty non-terminals s0..s99');
  for (const i of [0, 4_567, n - 1]) {
    const a = lookup(z, Name.parse(`h${i}.s${i % 100}.example.`), RRType.A);
    assert.equal(a.kind, 'answer');
    assert.equal(a.answer.length, 1);
  }
  assert.equal(lookup(z, Name.parse('s5.example.'), RRType.A).kind, 'nodata');
  assert.equal(lookup(z, Name.parse('h5.s6.example.'), RRType.A).kind, 'nxdomain');
});

test('node table: lookups ignore case, keep escapes apart and find every name after growth', () => {
  const recs = rrs(`${SOA}\n@ NS ns\nns A 192.0.2.1\na\\.b TXT "escaped dot"\na.b TXT "two labels"\nMiXeD.x TXT "m"`);
  const n = 5_000; // the table starts with 1024 slots: several grows
  for (let i = 0; i < n; i++) recs.push(recordFromText(`h${i}.s${i % 50} A 10.0.${(i >> 8) & 255}.${i & 255}`, origin));
  const z = buildZone(origin, recs);
  assert.equal(z.getNode(Name.parse('mixed.X.EXAMPLE.'))!.name.toString(), 'MiXeD.x.example.', 'case-insensitive, spelled as loaded');
  const escaped = z.getNode(Name.parse('a\\.b.example.'))!;
  const plain = z.getNode(Name.parse('a.b.example.'))!;
  assert.notEqual(escaped, plain);
  assert.equal(escaped.name.labelCount, 2);
  assert.equal(plain.name.labelCount, 3);
  assert.ok(z.getNode(Name.parse('b.example.'))!.isEmptyNonTerminal, 'the parent of a.b is an empty non-terminal');
  let found = 0;
  for (let i = 0; i < n; i++) {
    const name = Name.parse(`H${i}.S${i % 50}.example.`);
    const node = z.getNode(name);
    if (node && node.name.equals(name) && node.getRRset(RRType.A)) found++;
    const below = z.closestEncloser(Name.parse(`x.y.h${i}.s${i % 50}.example.`))!;
    assert.equal(below.node, node, 'closest encloser of a name two labels below');
    assert.equal(below.exact, false);
  }
  assert.equal(found, n);
  assert.equal(z.getNode(Name.parse(`h${n}.s0.example.`)), undefined);
  assert.equal(z.closestEncloser(Name.parse('example.'))!.exact, true);
  assert.equal(z.closestEncloser(Name.parse('q.example.'))!.node, z.apex);
  assert.equal(z.closestEncloser(Name.parse('example.org.')), undefined);
  assert.equal(z.nodes.length, z.nodeCount);
  z.nodes.forEach((node, i) => assert.equal(node.index, i));
});

test('RRset additional and sigs, node above and wild: each alone and together', () => {
  const z = buildZone(origin, rrs(`${SOA}
@ NS ns
ns A 192.0.2.1
sub NS ns.sub
ns.sub A 192.0.2.2
sub RRSIG NS 13 2 3600 20300101000000 20200101000000 12345 example. AAAA
mx MX 5 ns
w TXT "w"
*.w TXT "wild"
d DNAME example.net.
*.d TXT "occluded wildcard"
`));
  const get = (n: string) => z.getNode(Name.parse(`${n}.example.`))!;
  const ns = get('sub').getRRset(RRType.NS)!;
  assert.equal(ns.additional?.length, 1, 'glue');
  assert.equal(ns.sigs?.length, 1, 'and its RRSIG');
  assert.equal(ns.type, RRType.NS);
  assert.equal(ns.ttl, 3600);
  const mx = get('mx').getRRset(RRType.MX)!;
  assert.equal(mx.additional?.[0]?.name.toString(), 'ns.example.');
  assert.equal(mx.sigs, undefined);
  assert.equal(get('w').getRRset(RRType.TXT)!.additional, undefined);
  assert.equal(get('ns.sub').above, get('sub'), 'glue below the cut');
  assert.equal(get('ns.sub').wild, undefined);
  assert.equal(get('w').wild, get('*.w'));
  assert.equal(get('w').above, undefined);
  assert.equal(get('*.d').above, get('d'), 'below a DNAME');
  assert.equal(get('d').wild, get('*.d'), 'both set on no node here, wild alone on d');
  assert.equal(get('d').above, undefined);
});

test('a CNAME or NS target spelled like a node shares its Name; another spelling keeps its own', () => {
  const z = buildZone(origin, rrs(`${SOA}\n@ NS ns\nns A 192.0.2.1\nhost A 192.0.2.3\nalias CNAME host\nother CNAME HOST\nout CNAME host.example.net.`));
  const host = z.getNode(Name.parse('host.example.'))!;
  const target = (n: string) => (z.getNode(Name.parse(`${n}.example.`))!.getRRset(RRType.CNAME)!.records[0]!.data as { target: Name }).target;
  assert.equal(target('alias'), host.name, 'one Name object for the node and the target');
  assert.notEqual(target('other'), host.name, 'HOST keeps its spelling');
  assert.equal(target('other').toString(), 'HOST.example.');
  assert.equal(target('out').toString(), 'host.example.net.');
  const nsTarget = (z.apex.getRRset(RRType.NS)!.records[0]!.data as { target: Name }).target;
  assert.equal(nsTarget, z.getNode(Name.parse('ns.example.'))!.name);
  assert.equal(lookup(z, Name.parse('alias.example.'), RRType.A).answer.length, 2, 'CNAME then the A');
});
