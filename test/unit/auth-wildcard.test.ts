// RFC 4592 wildcards: the example zone of §2.2.1 and every query the RFC walks through
// (§2.2.1 "answered by the wildcard" and "not answered by the wildcard"), plus the closest-
// encloser rule of §3.3.1 with empty non-terminals blocking synthesis.
import { test } from 'node:test';
import { AuthoritativeStep } from '../../src/authoritative/step.js';
import { ZoneSet } from '../../src/authoritative/zone-set.js';
import { checkCase, srvGeneric, zoneFromText, type DnsCase } from '../../src/authoritative/dns-case.js';

// RFC 4592 §2.2.1, with concrete SOA and SRV RDATA where the RFC writes <SOA RDATA>.
const rfc4592 = zoneFromText('example.', `
example.                 3600 IN  SOA   ns.example.com. hostmaster.example. 1 3600 600 86400 300
example.                 3600     NS    ns.example.com.
example.                 3600     NS    ns.example.net.
*.example.               3600     TXT   "this is a wildcard"
*.example.               3600     MX    10 host1.example.
sub.*.example.           3600     TXT   "this is not a wildcard"
host1.example.           3600     A     192.0.2.1
_ssh._tcp.host1.example. 3600     SRV   ${srvGeneric(0, 0, 22, 'host1.example.')}
_ssh._tcp.host2.example. 3600     SRV   ${srvGeneric(0, 0, 22, 'host2.example.')}
subdel.example.          3600     NS    ns.example.com.
subdel.example.          3600     NS    ns.example.net.
`);

const step = new AuthoritativeStep(() => new ZoneSet([rfc4592]), {});
const SOA = 'example. 300 IN SOA ns.example.com. hostmaster.example. 1 3600 600 86400 300';
const SUBDEL_NS = ['subdel.example. 3600 IN NS ns.example.com.', 'subdel.example. 3600 IN NS ns.example.net.'];

const cases: DnsCase[] = [
  // §2.2.1: "The following responses would be synthesized from one of the wildcards".
  {
    title: '§2.2.1 host3.example. MX is synthesized from *.example. MX',
    qname: 'host3.example.', qtype: 'MX', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['host3.example. 3600 IN MX 10 host1.example.'],
    additional: ['host1.example. 3600 IN A 192.0.2.1'],
  },
  {
    title: '§2.2.1 host3.example. A: the wildcard matches, but has no A: NODATA',
    qname: 'host3.example.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa', authority: [SOA],
  },
  {
    title: '§2.2.1 foo.bar.example. TXT is synthesized from *.example. TXT (two labels deep)',
    qname: 'foo.bar.example.', qtype: 'TXT', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['foo.bar.example. 3600 IN TXT "this is a wildcard"'],
  },
  // §2.2.1: "The following responses would not be synthesized from any of the wildcards".
  {
    title: '§2.2.1 host1.example. MX: host1 exists, so NODATA',
    qname: 'host1.example.', qtype: 'MX', rcode: 'NOERROR', flags: 'qr aa', authority: [SOA],
  },
  {
    title: '§2.2.1 sub.*.example. MX: sub.* exists (not a wildcard), NODATA',
    qname: 'sub.*.example.', qtype: 'MX', rcode: 'NOERROR', flags: 'qr aa', authority: [SOA],
  },
  {
    title: '§2.2.1 _telnet._tcp.host1.example. SRV: closest encloser _tcp.host1 has no wildcard: NXDOMAIN',
    qname: '_telnet._tcp.host1.example.', qtype: 'SRV', rcode: 'NXDOMAIN', flags: 'qr aa', authority: [SOA],
  },
  {
    title: '§2.2.1 host.subdel.example. A: below the cut: referral',
    qname: 'host.subdel.example.', qtype: 'A', rcode: 'NOERROR', flags: 'qr', authority: SUBDEL_NS,
  },
  {
    title: '§2.2.1 ghost.*.example. MX: closest encloser *.example has no *.*.example: NXDOMAIN',
    qname: 'ghost.*.example.', qtype: 'MX', rcode: 'NXDOMAIN', flags: 'qr aa', authority: [SOA],
  },
  // §2.2.2 / §3.3.1: empty non-terminals exist and block the wildcard.
  {
    title: '§2.2.2 host2.example. is an empty non-terminal: NODATA, not the wildcard',
    qname: 'host2.example.', qtype: 'MX', rcode: 'NOERROR', flags: 'qr aa', authority: [SOA],
  },
  {
    title: '§2.2.2 _tcp.host1.example. is an empty non-terminal: NODATA',
    qname: '_tcp.host1.example.', qtype: 'TXT', rcode: 'NOERROR', flags: 'qr aa', authority: [SOA],
  },
  {
    title: '§3.3.1 _foo.host2.example. TXT: closest encloser host2 (ENT) has no wildcard: NXDOMAIN',
    qname: '_foo.host2.example.', qtype: 'TXT', rcode: 'NXDOMAIN', flags: 'qr aa', authority: [SOA],
  },
  {
    title: '§2.1.1 the wildcard name itself answers like any name (owner *.example.)',
    qname: '*.example.', qtype: 'TXT', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['*.example. 3600 IN TXT "this is a wildcard"'],
  },
  {
    title: '§2.2.1 sub.*.example. TXT answers its own data',
    qname: 'sub.*.example.', qtype: 'TXT', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['sub.*.example. 3600 IN TXT "this is not a wildcard"'],
  },
  {
    title: 'existing _ssh._tcp.host1.example. SRV answers, with the in-zone target address',
    qname: '_ssh._tcp.host1.example.', qtype: 'SRV', rcode: 'NOERROR', flags: 'qr aa',
    answer: [`_ssh._tcp.host1.example. 3600 IN SRV ${srvGeneric(0, 0, 22, 'host1.example.')}`],
    additional: ['host1.example. 3600 IN A 192.0.2.1'],
  },
  {
    title: '§4.2 the wildcard does not reach below the delegation: subdel.example. A is a referral',
    qname: 'subdel.example.', qtype: 'A', rcode: 'NOERROR', flags: 'qr', authority: SUBDEL_NS,
  },
  {
    title: 'ANY at a wildcard-matched name (minimal, RFC 8482 §4.1): one set of *.example. (MX before TXT), owner rewritten',
    qname: 'x.example.', qtype: 'ANY', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['x.example. 3600 IN MX 10 host1.example.'],
    additional: ['host1.example. 3600 IN A 192.0.2.1'],
  },
  {
    title: 'case of the query name is kept in the synthesized owner',
    qname: 'HoSt3.Example.', qtype: 'TXT', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['HoSt3.Example. 3600 IN TXT "this is a wildcard"'],
  },
];

for (const c of cases) test(`RFC 4592 ${c.title}`, () => checkCase(step, c).then(() => undefined));

// A zone where a wildcard has a CNAME and an ENT sits between a wildcard and a deeper name.
const more = zoneFromText('w.test.', `
@          3600 SOA ns.w.test. h.w.test. 7 3600 600 86400 600
@          3600 NS  ns
ns         3600 A   192.0.2.53
web        3600 A   192.0.2.80
*.cw       3600 CNAME web
*.blk      3600 TXT "wild"
a.b.blk    3600 TXT "deep"
*.loop     3600 CNAME x.loop
`);
const step2 = new AuthoritativeStep(() => new ZoneSet([more]), {});
const SOA2 = 'w.test. 600 IN SOA ns.w.test. h.w.test. 7 3600 600 86400 600';
const cases2: DnsCase[] = [
  {
    title: '§4.6 wildcard CNAME: owner becomes the qname, chain followed',
    qname: 'foo.cw.w.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['foo.cw.w.test. 3600 IN CNAME web.w.test.', 'web.w.test. 3600 IN A 192.0.2.80'],
  },
  {
    title: '§4.6 wildcard CNAME asked for CNAME: no chase',
    qname: 'foo.cw.w.test.', qtype: 'CNAME', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['foo.cw.w.test. 3600 IN CNAME web.w.test.'],
  },
  {
    title: '§3.3.1 b.blk is an empty non-terminal: it blocks *.blk',
    qname: 'b.blk.w.test.', qtype: 'TXT', rcode: 'NOERROR', flags: 'qr aa', authority: [SOA2],
  },
  {
    title: '§3.3.1 c.b.blk: closest encloser b.blk has no wildcard child: NXDOMAIN',
    qname: 'c.b.blk.w.test.', qtype: 'TXT', rcode: 'NXDOMAIN', flags: 'qr aa', authority: [SOA2],
  },
  {
    title: '§3.3.1 x.blk: closest encloser blk, source *.blk',
    qname: 'x.blk.w.test.', qtype: 'TXT', rcode: 'NOERROR', flags: 'qr aa', answer: ['x.blk.w.test. 3600 IN TXT "wild"'],
  },
  {
    title: 'a wildcard CNAME pointing back into its own wildcard stops at the loop',
    qname: 'y.loop.w.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['y.loop.w.test. 3600 IN CNAME x.loop.w.test.', 'x.loop.w.test. 3600 IN CNAME x.loop.w.test.'],
  },
  {
    title: 'cw itself is an empty non-terminal (only *.cw below): NODATA, not NXDOMAIN',
    qname: 'cw.w.test.', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa', authority: [SOA2],
  },
];
for (const c of cases2) test(`RFC 4592 ${c.title}`, () => checkCase(step2, c).then(() => undefined));
