// RFC 6672 DNAME: the substitution examples of §2.2 (each DNAME in its own zone, since the
// RFC's rows put different DNAMEs at the same owner), the synthesized CNAME with the DNAME's
// TTL (§3.1), YXDOMAIN for an over-long result (§2.2), occlusion below the DNAME (§2.4),
// qtype DNAME/CNAME, chains into another zone served here, and self-referencing DNAMEs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthoritativeStep } from '../../src/authoritative/step.js';
import { ZoneSet } from '../../src/authoritative/zone-set.js';
import { lookup } from '../../src/authoritative/lookup.js';
import { checkCase, zoneFromText, type DnsCase } from '../../src/authoritative/dns-case.js';
import { Name, RRType, Rcode } from '../../src/wire/index.js';

const COM_SOA = '@ 3600 SOA ns.example.org. h.example.org. 1 3600 600 86400 300\n@ 3600 NS ns.example.org.';
const comSoaLine = 'example.com. 300 IN SOA ns.example.org. h.example.org. 1 3600 600 86400 300';

function stepFor(...zones: ReturnType<typeof zoneFromText>[]): AuthoritativeStep {
  const set = new ZoneSet(zones);
  return new AuthoritativeStep(() => set, {});
}

const apexToNet = zoneFromText('example.com.', `${COM_SOA}\n@ 3600 DNAME example.net.`);
const bToNet = zoneFromText('example.com.', `${COM_SOA}\nb 3600 DNAME example.net.`);
const xToNet = zoneFromText('example.com.', `${COM_SOA}\nx 3600 DNAME example.net.\ny.x 3600 A 192.0.2.99`);
const apexToY = zoneFromText('example.com.', `${COM_SOA}\n@ 3600 DNAME y.example.net.`);
const apexToSelf = zoneFromText('example.com.', `${COM_SOA}\n@ 3600 DNAME example.com.`);
const apexToC = zoneFromText('example.com.', `${COM_SOA}\n@ 3600 DNAME c.example.com.`);
const xToRoot = zoneFromText('x.', '@ 3600 SOA ns.example.org. h.example.org. 1 3600 600 86400 300\n@ 3600 NS ns.example.org.\n@ 3600 DNAME .');
const net = zoneFromText('example.net.', `
@ 3600 SOA ns.example.org. h.example.org. 1 3600 600 86400 300
@ 3600 NS ns.example.org.
a 3600 A 192.0.2.1
foo 3600 A 192.0.2.2
`);

const DN_APEX = 'example.com. 3600 IN DNAME example.net.';

const table: [AuthoritativeStep, DnsCase][] = [
  // §2.2 table, row by row.
  [stepFor(apexToNet), { title: '§2.2 example.com. with DNAME at example.com.: no match (NODATA at the owner)', qname: 'example.com.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa', authority: [comSoaLine] }],
  [stepFor(apexToNet), {
    title: '§2.2 a.example.com. -> a.example.net.', qname: 'a.example.com.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa',
    answer: [DN_APEX, 'a.example.com. 3600 IN CNAME a.example.net.'],
  }],
  [stepFor(apexToNet), {
    title: '§2.2 a.b.example.com. -> a.b.example.net.', qname: 'a.b.example.com.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa',
    answer: [DN_APEX, 'a.b.example.com. 3600 IN CNAME a.b.example.net.'],
  }],
  [stepFor(bToNet), { title: '§2.2 ab.example.com. with DNAME at b.example.com.: no match (NXDOMAIN)', qname: 'ab.example.com.', qtype: 'A', rcode: 'NXDOMAIN', flags: 'qr aa', authority: [comSoaLine] }],
  [stepFor(apexToNet), {
    title: '§2.2 foo.example.com. -> foo.example.net.', qname: 'foo.example.com.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa',
    answer: [DN_APEX, 'foo.example.com. 3600 IN CNAME foo.example.net.'],
  }],
  [stepFor(xToNet), {
    title: '§2.2 a.x.example.com. with DNAME x.example.com. -> a.example.net.', qname: 'a.x.example.com.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['x.example.com. 3600 IN DNAME example.net.', 'a.x.example.com. 3600 IN CNAME a.example.net.'],
  }],
  [stepFor(apexToY), {
    title: '§2.2 a.example.com. with DNAME y.example.net. -> a.y.example.net.', qname: 'a.example.com.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['example.com. 3600 IN DNAME y.example.net.', 'a.example.com. 3600 IN CNAME a.y.example.net.'],
  }],
  [stepFor(apexToSelf), {
    title: '§2.2 cyc.example.com. -> cyc.example.com. (a loop: stopped)', qname: 'cyc.example.com.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['example.com. 3600 IN DNAME example.com.', 'cyc.example.com. 3600 IN CNAME cyc.example.com.'],
  }],
  [stepFor(xToRoot), {
    title: '§2.2 shortloop.x.x. -> shortloop.x. -> shortloop. (DNAME x. -> .)', qname: 'shortloop.x.x.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['x. 3600 IN DNAME .', 'shortloop.x.x. 3600 IN CNAME shortloop.x.', 'shortloop.x. 3600 IN CNAME shortloop.'],
  }],
  // Chasing into another zone served here.
  [stepFor(apexToNet, net), {
    title: '§3.1 the synthesized CNAME is followed into example.net. served here', qname: 'a.example.com.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa',
    answer: [DN_APEX, 'a.example.com. 3600 IN CNAME a.example.net.', 'a.example.net. 3600 IN A 192.0.2.1'],
  }],
  [stepFor(apexToNet, net), {
    title: '§3.1 substituted name missing in the target zone: NXDOMAIN with its SOA', qname: 'zz.example.com.', qtype: 'A', rcode: 'NXDOMAIN', flags: 'qr aa',
    answer: [DN_APEX, 'zz.example.com. 3600 IN CNAME zz.example.net.'], authority: ['example.net. 300 IN SOA ns.example.org. h.example.org. 1 3600 600 86400 300'],
  }],
  [stepFor(apexToNet, net), {
    title: '§3.1 qtype CNAME: DNAME and synthesized CNAME, not followed', qname: 'a.example.com.', qtype: 'CNAME', rcode: 'NOERROR', flags: 'qr aa',
    answer: [DN_APEX, 'a.example.com. 3600 IN CNAME a.example.net.'],
  }],
  [stepFor(apexToNet), { title: 'qtype DNAME at the owner: the DNAME itself', qname: 'example.com.', qtype: 'DNAME', rcode: 'NOERROR', flags: 'qr aa', answer: [DN_APEX] }],
  [stepFor(xToNet), {
    title: '§2.4 data below a DNAME is occluded: y.x.example.com. is redirected', qname: 'y.x.example.com.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['x.example.com. 3600 IN DNAME example.net.', 'y.x.example.com. 3600 IN CNAME y.example.net.'],
  }],
  [stepFor(apexToNet), {
    title: 'the question case is kept in the synthesized CNAME', qname: 'A.Example.COM.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa',
    answer: [DN_APEX, 'A.Example.COM. 3600 IN CNAME A.example.net.'],
  }],
];

for (const [step, c] of table) test(`RFC 6672 ${c.title}`, () => checkCase(step, c).then(() => undefined));

test('RFC 6672 §3.1 the synthesized CNAME takes the DNAME TTL', () => {
  const z = zoneFromText('ttl.test.', '@ 3600 SOA ns h 1 3600 600 86400 300\n@ 3600 NS ns\nd 77 DNAME e\nx.e 3600 A 192.0.2.1\n');
  const a = lookup(z, Name.parse('x.d.ttl.test.'), RRType.A);
  assert.equal(a.kind, 'answer');
  assert.deepEqual(a.answer.map((r) => [r.type, r.ttl]), [[RRType.DNAME, 77], [RRType.CNAME, 77], [RRType.A, 3600]]);
});

test('RFC 6672 §2.2 a substitution longer than 255 octets gives YXDOMAIN with the DNAME', async () => {
  const target = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'example.net.'].join('.');
  const z = zoneFromText('example.com.', `${COM_SOA}\nlong 3600 DNAME ${target}`);
  const qname = `${'q'.repeat(50)}.long.example.com.`;
  await checkCase(stepFor(z), {
    qname, qtype: 'A', rcode: 'YXDOMAIN', flags: 'qr aa', answer: [`long.example.com. 3600 IN DNAME ${target}`],
  });
  const short = lookup(z, Name.parse(`q.long.example.com.`), RRType.A);
  assert.equal(short.rcode, Rcode.NOERROR);
  assert.equal((short.answer[1]!.data as { target: Name }).target.toString(), `q.${target}`);
});

test('RFC 6672 §2.2 a DNAME into its own subtree grows until the chain limit', () => {
  const a = lookup(apexToC, Name.parse('cyc.example.com.'), RRType.A);
  assert.equal(a.kind, 'cname');
  assert.equal(a.rcode, Rcode.NOERROR);
  assert.equal(a.answer.filter((r) => r.type === RRType.DNAME).length, 1, 'the DNAME once');
  const cnames = a.answer.filter((r) => r.type === RRType.CNAME);
  assert.equal(cnames.length, a.chain + 1);
  assert.equal((cnames[0]!.data as { target: Name }).target.toString(), 'cyc.c.example.com.');
  assert.equal((cnames[2]!.data as { target: Name }).target.toString(), 'cyc.c.c.c.example.com.');
});
