// RFC 1034 §4.3.2 answers from one parent zone and a nested child zone served beside it:
// exact matches, CNAME chains (RFC 1034 §3.6.2, RFC 2181 §10.1), loops and the chain limit,
// delegations with glue and occluded data, DS at a cut (RFC 4035 §3.1.4.1), empty
// non-terminals, NXDOMAIN vs NODATA with the RFC 2308 §5 negative TTL, additional-section
// processing (RFC 1035 §3.3.9 MX, RFC 2782 SRV, NS glue), ANY, and the question's case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthoritativeStep } from '../../src/authoritative/step.js';
import { ZoneSet } from '../../src/authoritative/zone-set.js';
import { lookup } from '../../src/authoritative/lookup.js';
import { checkCase, zoneFromText, type DnsCase } from '../../src/authoritative/dns-case.js';
import { Name, RRType, Rcode } from '../../src/wire/index.js';

const parent = zoneFromText('example.test.', `
@            3600 SOA   ns1 hostmaster 2024010101 7200 3600 1209600 600
@            3600 NS    ns1
@            3600 NS    ns2.example.net.
@            3600 MX    10 mail
@            3600 MX    20 mail.example.org.
ns1          3600 A     192.0.2.53
ns1          3600 AAAA  2001:db8::53
mail         3600 A     192.0.2.25
mail         3600 AAAA  2001:db8::25
www          300  CNAME web
web          300  A     192.0.2.10
web          300  A     192.0.2.11
alias1       300  CNAME alias2
alias2       300  CNAME www
loop1        300  CNAME loop2
loop2        300  CNAME loop1
self         300  CNAME self
out          300  CNAME www.example.org.
dangling     300  CNAME nothere
to-child     300  CNAME www.child
to-deleg     300  CNAME host.deleg
txt          3600 TXT   "hello"
_sip._udp    3600 SRV   0 5 5060 sip
sip          3600 A     192.0.2.60
a.b.ent      3600 TXT   "deep"
child        3600 NS    ns.child
ns.child     3600 A     192.0.2.70
deleg        3600 NS    ns.deleg
deleg        3600 NS    ns.elsewhere.example.org.
deleg        3600 DS    12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.deleg     3600 A     192.0.2.80
ns.deleg     3600 AAAA  2001:db8::80
hidden.deleg 3600 A     192.0.2.81
mx-occluded  3600 MX    10 hidden.deleg
mx-self      3600 MX    10 mx-self
mx-self      3600 A     192.0.2.90
`);
const child = zoneFromText('child.example.test.', `
@    7200 SOA ns hostmaster 5 3600 600 86400 3600
@    7200 NS  ns
ns   7200 A   192.0.2.70
www  7200 A   192.0.2.71
`);
const zones = new ZoneSet([parent, child]);
const step = new AuthoritativeStep(() => zones, {});

const SOA = 'example.test. 600 IN SOA ns1.example.test. hostmaster.example.test. 2024010101 7200 3600 1209600 600';
const CHILD_SOA = 'child.example.test. 3600 IN SOA ns.child.example.test. hostmaster.child.example.test. 5 3600 600 86400 3600';
const DELEG_NS = ['deleg.example.test. 3600 IN NS ns.deleg.example.test.', 'deleg.example.test. 3600 IN NS ns.elsewhere.example.org.'];
const DELEG_GLUE = ['ns.deleg.example.test. 3600 IN A 192.0.2.80', 'ns.deleg.example.test. 3600 IN AAAA 2001:db8::80'];
const WEB = ['web.example.test. 300 IN A 192.0.2.10', 'web.example.test. 300 IN A 192.0.2.11'];

const cases: DnsCase[] = [
  // §4.3.2 step 3a: exact matches.
  { title: 'exact match A (RRset of two)', qname: 'web.example.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa', answer: WEB },
  { title: 'exact match TXT', qname: 'txt.example.test.', qtype: 'TXT', rcode: 'NOERROR', flags: 'qr aa', answer: ['txt.example.test. 3600 IN TXT "hello"'] },
  { title: 'RD is copied into the response', qname: 'txt.example.test.', qtype: 'TXT', rd: true, rcode: 'NOERROR', flags: 'qr aa rd', answer: ['txt.example.test. 3600 IN TXT "hello"'] },
  {
    title: 'apex SOA', qname: 'example.test.', qtype: 'SOA', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 2024010101 7200 3600 1209600 600'],
  },
  {
    title: 'apex NS with in-zone addresses in additional', qname: 'example.test.', qtype: 'NS', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['example.test. 3600 IN NS ns1.example.test.', 'example.test. 3600 IN NS ns2.example.net.'],
    additional: ['ns1.example.test. 3600 IN A 192.0.2.53', 'ns1.example.test. 3600 IN AAAA 2001:db8::53'],
  },
  // RFC 1035 §3.3.9, RFC 2782: additional-section processing.
  {
    title: 'MX: in-zone exchange addresses in additional, out-of-zone one not', qname: 'example.test.', qtype: 'MX', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['example.test. 3600 IN MX 10 mail.example.test.', 'example.test. 3600 IN MX 20 mail.example.org.'],
    additional: ['mail.example.test. 3600 IN A 192.0.2.25', 'mail.example.test. 3600 IN AAAA 2001:db8::25'],
  },
  {
    title: 'SRV: target address in additional', qname: '_sip._udp.example.test.', qtype: 'SRV', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['_sip._udp.example.test. 3600 IN SRV 0 5 5060 sip.example.test.'], additional: ['sip.example.test. 3600 IN A 192.0.2.60'],
  },
  {
    title: 'MX whose exchange is occluded below a cut: no additional', qname: 'mx-occluded.example.test.', qtype: 'MX', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['mx-occluded.example.test. 3600 IN MX 10 hidden.deleg.example.test.'],
  },
  {
    title: 'ANY (RFC 8482 §4.1 minimal, the default) returns one RRset: A (type 1) before MX (15)', qname: 'mx-self.example.test.', qtype: 'ANY', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['mx-self.example.test. 3600 IN A 192.0.2.90'],
  },
  {
    title: 'ANY (minimal) at the apex: the NS set, lowest type number (as Knot), with its glue', qname: 'example.test.', qtype: 'ANY', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['example.test. 3600 IN NS ns1.example.test.', 'example.test. 3600 IN NS ns2.example.net.'],
    additional: ['ns1.example.test. 3600 IN A 192.0.2.53', 'ns1.example.test. 3600 IN AAAA 2001:db8::53'],
  },
  { title: 'ANY (minimal) at an empty non-terminal: NODATA', qname: 'ent.example.test.', qtype: 'ANY', rcode: 'NOERROR', flags: 'qr aa', authority: [SOA] },
  { title: 'ANY (minimal) at a name with TXT only: the TXT', qname: 'txt.example.test.', qtype: 'ANY', rcode: 'NOERROR', flags: 'qr aa', answer: ['txt.example.test. 3600 IN TXT "hello"'] },
  {
    title: 'MX to itself: the address goes to additional once', qname: 'mx-self.example.test.', qtype: 'MX', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['mx-self.example.test. 3600 IN MX 10 mx-self.example.test.'], additional: ['mx-self.example.test. 3600 IN A 192.0.2.90'],
  },
  // RFC 2308 §2.1, §2.2, §5: NXDOMAIN vs NODATA, SOA TTL = min(TTL, MINIMUM).
  { title: 'NXDOMAIN with the SOA at TTL min(3600, 600)', qname: 'nothere.example.test.', qtype: 'A', rcode: 'NXDOMAIN', flags: 'qr aa', authority: [SOA] },
  { title: 'NXDOMAIN two labels below an existing name', qname: 'x.y.txt.example.test.', qtype: 'A', rcode: 'NXDOMAIN', flags: 'qr aa', authority: [SOA] },
  { title: 'NODATA: name exists without the type', qname: 'txt.example.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa', authority: [SOA] },
  { title: 'NODATA for AAAA at the apex', qname: 'example.test.', qtype: 'AAAA', rcode: 'NOERROR', flags: 'qr aa', authority: [SOA] },
  // Empty non-terminals (RFC 8020: they exist; NODATA, never NXDOMAIN).
  { title: 'empty non-terminal ent: NODATA', qname: 'ent.example.test.', qtype: 'TXT', rcode: 'NOERROR', flags: 'qr aa', authority: [SOA] },
  { title: 'empty non-terminal b.ent: NODATA', qname: 'b.ent.example.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa', authority: [SOA] },
  { title: 'data below the empty non-terminals', qname: 'a.b.ent.example.test.', qtype: 'TXT', rcode: 'NOERROR', flags: 'qr aa', answer: ['a.b.ent.example.test. 3600 IN TXT "deep"'] },
  { title: 'sibling below an empty non-terminal: NXDOMAIN', qname: 'c.ent.example.test.', qtype: 'TXT', rcode: 'NXDOMAIN', flags: 'qr aa', authority: [SOA] },
  // CNAME (RFC 1034 §3.6.2, §4.3.2 step 3a; RFC 2181 §10.1).
  { title: 'CNAME followed to the A RRset', qname: 'www.example.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa', answer: ['www.example.test. 300 IN CNAME web.example.test.', ...WEB] },
  { title: 'qtype CNAME is not followed', qname: 'www.example.test.', qtype: 'CNAME', rcode: 'NOERROR', flags: 'qr aa', answer: ['www.example.test. 300 IN CNAME web.example.test.'] },
  { title: 'ANY at a CNAME returns the CNAME, not followed', qname: 'www.example.test.', qtype: 'ANY', rcode: 'NOERROR', flags: 'qr aa', answer: ['www.example.test. 300 IN CNAME web.example.test.'] },
  {
    title: 'CNAME chain of three', qname: 'alias1.example.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['alias1.example.test. 300 IN CNAME alias2.example.test.', 'alias2.example.test. 300 IN CNAME www.example.test.', 'www.example.test. 300 IN CNAME web.example.test.', ...WEB],
  },
  {
    title: 'CNAME chain to NODATA: SOA of the end of the chain', qname: 'www.example.test.', qtype: 'MX', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['www.example.test. 300 IN CNAME web.example.test.'], authority: [SOA],
  },
  {
    title: 'dangling CNAME: NXDOMAIN for the target (RFC 6604 §2)', qname: 'dangling.example.test.', qtype: 'A', rcode: 'NXDOMAIN', flags: 'qr aa',
    answer: ['dangling.example.test. 300 IN CNAME nothere.example.test.'], authority: [SOA],
  },
  {
    title: 'CNAME loop of two stops after each name once', qname: 'loop1.example.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['loop1.example.test. 300 IN CNAME loop2.example.test.', 'loop2.example.test. 300 IN CNAME loop1.example.test.'],
  },
  { title: 'CNAME to itself stops at once', qname: 'self.example.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa', answer: ['self.example.test. 300 IN CNAME self.example.test.'] },
  { title: 'CNAME out of our zones: the CNAME alone', qname: 'out.example.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa', answer: ['out.example.test. 300 IN CNAME www.example.org.'] },
  {
    title: 'CNAME into the nested child zone served here', qname: 'to-child.example.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['to-child.example.test. 300 IN CNAME www.child.example.test.', 'www.child.example.test. 7200 IN A 192.0.2.71'],
  },
  {
    title: 'CNAME into a delegation: CNAME, then the referral (AA from the first step)', qname: 'to-deleg.example.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['to-deleg.example.test. 300 IN CNAME host.deleg.example.test.'], authority: DELEG_NS, additional: DELEG_GLUE,
  },
  // Delegations (§4.3.2 step 3b): referral, glue, occlusion, DS from the parent side.
  { title: 'below a cut: referral with glue, AA clear', qname: 'www.deleg.example.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr', authority: DELEG_NS, additional: DELEG_GLUE },
  { title: 'at the cut, qtype A: referral', qname: 'deleg.example.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr', authority: DELEG_NS, additional: DELEG_GLUE },
  { title: 'at the cut, qtype NS: referral, not an answer', qname: 'deleg.example.test.', qtype: 'NS', rcode: 'NOERROR', flags: 'qr', authority: DELEG_NS, additional: DELEG_GLUE },
  { title: 'occluded data below the cut is not answered', qname: 'hidden.deleg.example.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr', authority: DELEG_NS, additional: DELEG_GLUE },
  { title: 'glue name itself: referral, not an authoritative answer', qname: 'ns.deleg.example.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr', authority: DELEG_NS, additional: DELEG_GLUE },
  {
    title: 'DS at the cut is answered by the parent, authoritatively', qname: 'deleg.example.test.', qtype: 'DS', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['deleg.example.test. 3600 IN DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'],
  },
  { title: 'DS below the cut: referral', qname: 'x.deleg.example.test.', qtype: 'DS', rcode: 'NOERROR', flags: 'qr', authority: DELEG_NS, additional: DELEG_GLUE },
  {
    title: 'referral with DO from an unsigned zone: no DS (as NSD and Knot)', qname: 'www.deleg.example.test.', qtype: 'A', do: true, rcode: 'NOERROR', flags: 'qr',
    authority: DELEG_NS, additional: DELEG_GLUE,
  },
  // Nested zones, both served: the longest origin answers; DS goes to the parent.
  { title: 'name in the child zone is answered by the child', qname: 'www.child.example.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa', answer: ['www.child.example.test. 7200 IN A 192.0.2.71'] },
  {
    title: 'child apex NS from the child with its address', qname: 'child.example.test.', qtype: 'NS', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['child.example.test. 7200 IN NS ns.child.example.test.'], additional: ['ns.child.example.test. 7200 IN A 192.0.2.70'],
  },
  { title: 'DS for the child apex comes from the parent (NODATA, parent SOA)', qname: 'child.example.test.', qtype: 'DS', rcode: 'NOERROR', flags: 'qr aa', authority: [SOA] },
  { title: 'NXDOMAIN inside the child carries the child SOA (negative TTL 3600)', qname: 'nope.child.example.test.', qtype: 'A', rcode: 'NXDOMAIN', flags: 'qr aa', authority: [CHILD_SOA] },
  // Case preservation (RFC 4343 §4.1): the question as sent, data owners as in the zone.
  { title: 'mixed-case question matches; the question keeps its case', qname: 'WeB.ExAmPlE.TeSt.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa', answer: WEB },
  { title: 'mixed-case NXDOMAIN', qname: 'NoThErE.EXAMPLE.test.', qtype: 'A', rcode: 'NXDOMAIN', flags: 'qr aa', authority: [SOA] },
  { title: 'mixed-case referral', qname: 'WWW.DELEG.EXAMPLE.TEST.', qtype: 'A', rcode: 'NOERROR', flags: 'qr', authority: DELEG_NS, additional: DELEG_GLUE },
  // What the step leaves to others.
  { title: 'names outside our zones go to the next step', qname: 'www.example.org.', qtype: 'A', rcode: 'NEXT' },
  { title: 'the parent of our zones is not ours', qname: 'test.', qtype: 'SOA', rcode: 'NEXT' },
  { title: 'zone transfers go to the next step', qname: 'example.test.', qtype: 'AXFR', rcode: 'NEXT' },
  { title: 'class CH for an IN zone goes to the next step', qname: 'example.test.', qtype: 'SOA', qclass: 'CH', rcode: 'NEXT' },
  { title: 'qtype TSIG in a question: FORMERR', qname: 'example.test.', qtype: 'TSIG', rcode: 'FORMERR', flags: 'qr' },
  { title: 'qtype MAILB: NOTIMP', qname: 'example.test.', qtype: 'MAILB', rcode: 'NOTIMP', flags: 'qr' },
];

for (const c of cases) test(`RFC 1034 §4.3.2 ${c.title}`, () => checkCase(step, c).then(() => undefined));

test('RFC 1035 full ANY (anyPolicy full): every RRset at the name plus their additional data', async () => {
  const full = new AuthoritativeStep(() => zones, { lookup: { anyPolicy: 'full' } });
  await checkCase(full, {
    qname: 'mx-self.example.test.', qtype: 'ANY', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['mx-self.example.test. 3600 IN MX 10 mx-self.example.test.', 'mx-self.example.test. 3600 IN A 192.0.2.90'],
  });
  await checkCase(full, {
    qname: 'example.test.', qtype: 'ANY', rcode: 'NOERROR', flags: 'qr aa',
    answer: [
      'example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 2024010101 7200 3600 1209600 600',
      'example.test. 3600 IN NS ns1.example.test.', 'example.test. 3600 IN NS ns2.example.net.',
      'example.test. 3600 IN MX 10 mail.example.test.', 'example.test. 3600 IN MX 20 mail.example.org.',
    ],
    additional: ['ns1.example.test. 3600 IN A 192.0.2.53', 'ns1.example.test. 3600 IN AAAA 2001:db8::53', 'mail.example.test. 3600 IN A 192.0.2.25', 'mail.example.test. 3600 IN AAAA 2001:db8::25'],
  });
});

test('RFC 4035 §3.1.4.1 referral with DO from a signed zone (apex DNSKEY): the DS set in authority', async () => {
  const signedParent = zoneFromText('example.test.', `
@            3600 SOA   ns1 hostmaster 2024010101 7200 3600 1209600 600
@            3600 NS    ns1
@            3600 DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==
ns1          3600 A     192.0.2.53
deleg        3600 NS    ns.deleg
deleg        3600 DS    12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.deleg     3600 A     192.0.2.80
nods         3600 NS    ns.deleg
`);
  assert.ok(signedParent.signed);
  assert.ok(!parent.signed);
  const s2 = new AuthoritativeStep(() => new ZoneSet([signedParent]), {});
  const ns = 'deleg.example.test. 3600 IN NS ns.deleg.example.test.';
  const glue = 'ns.deleg.example.test. 3600 IN A 192.0.2.80';
  await checkCase(s2, {
    qname: 'www.deleg.example.test.', qtype: 'A', do: true, rcode: 'NOERROR', flags: 'qr',
    authority: [ns, 'deleg.example.test. 3600 IN DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'], additional: [glue],
  });
  await checkCase(s2, { qname: 'www.deleg.example.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr', authority: [ns], additional: [glue] });
  // No chain in this zone, so a cut without DS gets no NSEC proof either.
  await checkCase(s2, { qname: 'nods.example.test.', qtype: 'A', do: true, rcode: 'NOERROR', flags: 'qr', authority: ['nods.example.test. 3600 IN NS ns.deleg.example.test.'], additional: [glue] });
});

test('CNAME chain length is capped (default 16 steps, configurable)', () => {
  const lines = ['@ 3600 SOA ns h 1 3600 600 86400 300', '@ 3600 NS ns', 'ns 3600 A 192.0.2.1'];
  for (let i = 1; i < 30; i++) lines.push(`c${i} 60 CNAME c${i + 1}`);
  lines.push('c30 60 A 192.0.2.30');
  const z = zoneFromText('chain.test.', lines.join('\n'));
  const full = lookup(z, Name.parse('c1.chain.test.'), RRType.A);
  assert.equal(full.kind, 'cname');
  assert.equal(full.chain, 16);
  assert.equal(full.answer.length, 17, 'the CNAME of every name visited');
  assert.ok(full.answer.every((r) => r.type === RRType.CNAME));
  assert.equal(full.rcode, Rcode.NOERROR);
  const near = lookup(z, Name.parse('c25.chain.test.'), RRType.A);
  assert.equal(near.kind, 'answer');
  assert.equal(near.answer.length, 6, 'CNAMEs of c25..c29 and the A of c30');
  const short = lookup(z, Name.parse('c1.chain.test.'), RRType.A, { maxChain: 3 });
  assert.equal(short.answer.length, 4);
  assert.equal(short.kind, 'cname');
});

test('lookup is deterministic: the same key gives equal results (cacheable)', () => {
  for (const [q, t] of [['www.example.test.', RRType.A], ['x.deleg.example.test.', RRType.A], ['nothere.example.test.', RRType.MX]] as const) {
    const a = lookup(parent, Name.parse(q), t, { zones });
    const b = lookup(parent, Name.parse(q), t, { zones });
    assert.deepEqual(a, b);
  }
});

test('lookup outside the zone is notauth/REFUSED', () => {
  const a = lookup(parent, Name.parse('example.org.'), RRType.A);
  assert.equal(a.kind, 'notauth');
  assert.equal(a.rcode, Rcode.REFUSED);
  assert.equal(a.aa, false);
});

test('a reload swaps the ZoneSet between requests', async () => {
  let current = new ZoneSet([parent]);
  const s = new AuthoritativeStep(() => current, {});
  await checkCase(s, { qname: 'www.child.example.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr', authority: ['child.example.test. 3600 IN NS ns.child.example.test.'], additional: ['ns.child.example.test. 3600 IN A 192.0.2.70'] });
  current = zones;
  await checkCase(s, { qname: 'www.child.example.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa', answer: ['www.child.example.test. 7200 IN A 192.0.2.71'] });
});

test('negative TTL uses the SOA TTL when it is below MINIMUM (RFC 2308 §5)', async () => {
  const z = zoneFromText('neg.test.', '@ 120 SOA ns h 1 3600 600 86400 3600\n@ 120 NS ns\nns 120 A 192.0.2.1');
  const s = new AuthoritativeStep(() => new ZoneSet([z]), {});
  await checkCase(s, { qname: 'x.neg.test.', qtype: 'A', rcode: 'NXDOMAIN', flags: 'qr aa', authority: ['neg.test. 120 IN SOA ns.neg.test. h.neg.test. 1 3600 600 86400 3600'] });
  await checkCase(s, { qname: 'ns.neg.test.', qtype: 'TXT', rcode: 'NOERROR', flags: 'qr aa', authority: ['neg.test. 120 IN SOA ns.neg.test. h.neg.test. 1 3600 600 86400 3600'] });
});

test('a root zone served here: referrals from the root', async () => {
  const root = zoneFromText('.', `
. 86400 SOA a.root-servers.net. nstld.verisign-grs.com. 2024010100 1800 900 604800 86400
. 518400 NS a.root-servers.net.
a.root-servers.net. 518400 A 198.41.0.4
test. 172800 NS ns.test.
ns.test. 172800 A 192.0.2.1
`);
  const s = new AuthoritativeStep(() => new ZoneSet([root]), {});
  await checkCase(s, { qname: 'www.example.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr', authority: ['test. 172800 IN NS ns.test.'], additional: ['ns.test. 172800 IN A 192.0.2.1'] });
  await checkCase(s, { qname: 'nope.', qtype: 'A', rcode: 'NXDOMAIN', flags: 'qr aa', authority: ['. 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 2024010100 1800 900 604800 86400'] });
  await checkCase(s, { qname: '.', qtype: 'NS', rcode: 'NOERROR', flags: 'qr aa', answer: ['. 518400 IN NS a.root-servers.net.'], additional: ['a.root-servers.net. 518400 IN A 198.41.0.4'] });
});

test('answerKey separates zone version, name (case-folded), type and DO', async () => {
  const { answerKey } = await import('../../src/authoritative/lookup.js');
  const k = answerKey(parent, Name.parse('WWW.example.test.'), RRType.A, false);
  assert.equal(k, answerKey(parent, Name.parse('www.EXAMPLE.test.'), RRType.A, false));
  assert.notEqual(k, answerKey(parent, Name.parse('www.example.test.'), RRType.AAAA, false));
  assert.notEqual(k, answerKey(parent, Name.parse('www.example.test.'), RRType.A, true));
  assert.notEqual(k, answerKey(child, Name.parse('www.example.test.'), RRType.A, false));
});
