// qtype ANY under each anyPolicy (RFC 8482): minimal (one RRset, §4.1; the default), refuse
// (NOTIMP), tcp (TC over UDP, everything over TCP), full (RFC 1035); and the additional
// section of SVCB/HTTPS answers (RFC 9460 §4.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthoritativeStep, type AuthoritativeOptions } from '../../src/authoritative/step.js';
import { ZoneSet } from '../../src/authoritative/zone-set.js';
import { ANY_MODES } from '../../src/authoritative/any.js';
import { checkCase, linesOf, queryFor, requestFor, zoneFromText, type DnsCase } from '../../src/authoritative/dns-case.js';
import { Rcode } from '../../src/wire/index.js';
import type { TransportKind } from '../../src/transport/handler.js';

const zone = zoneFromText('any.test.', `
@         3600 SOA   ns hostmaster 1 3600 600 86400 300
@         3600 NS    ns
@         3600 MX    10 mail
@         3600 TXT   "apex"
ns        3600 A     192.0.2.53
mail      3600 A     192.0.2.25
mail      3600 TXT   "mail"
host      3600 TXT   "t"
host      3600 HINFO "cpu" "os"
host      3600 AAAA  2001:db8::1
alias     3600 CNAME host
a.ent     3600 A     192.0.2.9
*.wild    3600 TXT   "w"
*.wild    3600 MX    10 mail
deleg     3600 NS    ns.deleg
ns.deleg  3600 A     192.0.2.99
svc       3600 SVCB  0 target.any.test.
svc       3600 A     192.0.2.200
target    3600 SVCB  1 . alpn=h2
target    3600 A     192.0.2.201
target    3600 AAAA  2001:db8::201
web       3600 HTTPS 1 . alpn=h3
web       3600 A     192.0.2.202
away      3600 SVCB  0 svc.example.net.
hidden    3600 SVCB  1 ns.deleg.any.test.
`);
const zones = new ZoneSet([zone]);
const stepWith = (opts: AuthoritativeOptions): AuthoritativeStep => new AuthoritativeStep(() => zones, opts);

const NS = ['any.test. 3600 IN NS ns.any.test.'];
const NS_GLUE = ['ns.any.test. 3600 IN A 192.0.2.53'];
const SOA = 'any.test. 300 IN SOA ns.any.test. hostmaster.any.test. 1 3600 600 86400 300';

const minimal: DnsCase[] = [
  { title: 'apex: NS (type 2) is the lowest type, with its glue', qname: 'any.test.', qtype: 'ANY', rcode: 'NOERROR', flags: 'qr aa', answer: NS, additional: NS_GLUE },
  { title: 'host: HINFO (13) is the lowest of HINFO, TXT (16), AAAA (28)', qname: 'host.any.test.', qtype: 'ANY', rcode: 'NOERROR', flags: 'qr aa', answer: ['host.any.test. 3600 IN HINFO "cpu" "os"'] },
  { title: 'mail: A before TXT', qname: 'mail.any.test.', qtype: 'ANY', rcode: 'NOERROR', flags: 'qr aa', answer: ['mail.any.test. 3600 IN A 192.0.2.25'] },
  { title: 'CNAME node: the CNAME, not followed', qname: 'alias.any.test.', qtype: 'ANY', rcode: 'NOERROR', flags: 'qr aa', answer: ['alias.any.test. 3600 IN CNAME host.any.test.'] },
  { title: 'empty non-terminal: NODATA (no synthesized HINFO)', qname: 'ent.any.test.', qtype: 'ANY', rcode: 'NOERROR', flags: 'qr aa', authority: [SOA] },
  { title: 'no such name: NXDOMAIN', qname: 'nope.any.test.', qtype: 'ANY', rcode: 'NXDOMAIN', flags: 'qr aa', authority: [SOA] },
  { title: 'wildcard: one synthesized set (MX 15 before TXT 16) with the exchange address', qname: 'x.wild.any.test.', qtype: 'ANY', rcode: 'NOERROR', flags: 'qr aa', answer: ['x.wild.any.test. 3600 IN MX 10 mail.any.test.'], additional: ['mail.any.test. 3600 IN A 192.0.2.25'] },
  { title: 'below a cut: the referral', qname: 'x.deleg.any.test.', qtype: 'ANY', rcode: 'NOERROR', flags: 'qr', authority: ['deleg.any.test. 3600 IN NS ns.deleg.any.test.'], additional: ['ns.deleg.any.test. 3600 IN A 192.0.2.99'] },
];

for (const c of minimal) {
  test(`RFC 8482 §4.1 minimal ANY (default): ${c.title}`, async () => {
    await checkCase(stepWith({}), c);
    await checkCase(stepWith({ anyPolicy: 'minimal' }), c);
  });
}

/** Asks `step` over `transport` and returns the response message. */
async function ask(step: AuthoritativeStep, qname: string, transport: TransportKind) {
  const req = { ...requestFor(queryFor({ qname, qtype: 'ANY', rcode: 'NOERROR' })), transport };
  const reply = await step.handle(req, async () => ({ reason: 'next' }));
  assert.ok(reply.message, 'a message');
  return { message: reply.message, reason: reply.reason };
}

const FULL_APEX = [
  'any.test. 3600 IN SOA ns.any.test. hostmaster.any.test. 1 3600 600 86400 300', ...NS,
  'any.test. 3600 IN MX 10 mail.any.test.', 'any.test. 3600 IN TXT "apex"',
];

test('anyPolicy full: every RRset at the name over UDP and TCP (RFC 1035)', async () => {
  const s = stepWith({ anyPolicy: 'full' });
  await checkCase(s, {
    qname: 'any.test.', qtype: 'ANY', rcode: 'NOERROR', flags: 'qr aa', answer: FULL_APEX,
    additional: [...NS_GLUE, 'mail.any.test. 3600 IN A 192.0.2.25'],
  });
  const tcp = await ask(s, 'any.test.', 'tcp');
  assert.ok(!tcp.message.tc);
  assert.equal(tcp.message.answer.length, FULL_APEX.length);
});

test('anyPolicy refuse: NOTIMP with an empty answer, any transport; other types unaffected', async () => {
  const s = stepWith({ anyPolicy: 'refuse' });
  for (const tr of ['udp', 'tcp'] as const) {
    const { message, reason } = await ask(s, 'host.any.test.', tr);
    assert.equal(message.rcode, Rcode.NOTIMP);
    assert.equal(message.answer.length + message.authority.length + message.additional.length, 0);
    assert.equal(reason, 'any-refused');
  }
  await checkCase(s, { qname: 'host.any.test.', qtype: 'TXT', rcode: 'NOERROR', flags: 'qr aa', answer: ['host.any.test. 3600 IN TXT "t"'] });
});

test('anyPolicy tcp: TC and no records over UDP, the full answer over TCP, TLS and HTTPS', async () => {
  const s = stepWith({ anyPolicy: 'tcp' });
  const udp = await ask(s, 'any.test.', 'udp');
  assert.ok(udp.message.tc, 'TC over UDP');
  assert.ok(udp.message.aa);
  assert.equal(udp.message.rcode, Rcode.NOERROR);
  assert.equal(udp.message.answer.length + udp.message.authority.length + udp.message.additional.length, 0);
  for (const tr of ['tcp', 'tls', 'https'] as const) {
    const r = await ask(s, 'any.test.', tr);
    assert.ok(!r.message.tc, tr);
    assert.equal(new Set(r.message.answer.map((rr) => rr.type)).size, 4, `${tr}: SOA, NS, MX, TXT`);
  }
  // UDP again after a TCP answer for the same key: still TC (no cached full answer leaks).
  assert.ok((await ask(s, 'any.test.', 'udp')).message.tc);
});

test('ANY_MODES lists the four policies', () => {
  assert.deepEqual([...ANY_MODES].sort(), ['full', 'minimal', 'refuse', 'tcp']);
});

// RFC 9460 §4.1: A/AAAA of in-zone TargetNames ("." in ServiceMode = the owner) and, for
// AliasMode, the target's SVCB set; nothing for targets outside the zone or below a cut.
const svcb: DnsCase[] = [
  {
    title: 'AliasMode: the target SVCB and its addresses, not the owner A', qname: 'svc.any.test.', qtype: 'SVCB', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['svc.any.test. 3600 IN SVCB 0 target.any.test.'],
    additional: ['target.any.test. 3600 IN SVCB 1 . alpn=h2', 'target.any.test. 3600 IN A 192.0.2.201', 'target.any.test. 3600 IN AAAA 2001:db8::201'],
  },
  {
    title: 'ServiceMode with target ".": the owner\'s addresses', qname: 'target.any.test.', qtype: 'SVCB', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['target.any.test. 3600 IN SVCB 1 . alpn=h2'], additional: ['target.any.test. 3600 IN A 192.0.2.201', 'target.any.test. 3600 IN AAAA 2001:db8::201'],
  },
  {
    title: 'HTTPS ServiceMode ".": the owner\'s address', qname: 'web.any.test.', qtype: 'HTTPS', rcode: 'NOERROR', flags: 'qr aa',
    answer: ['web.any.test. 3600 IN HTTPS 1 . alpn=h3'], additional: ['web.any.test. 3600 IN A 192.0.2.202'],
  },
  { title: 'target in another zone: nothing added', qname: 'away.any.test.', qtype: 'SVCB', rcode: 'NOERROR', flags: 'qr aa', answer: ['away.any.test. 3600 IN SVCB 0 svc.example.net.'] },
  { title: 'target below a cut (not authoritative): nothing added', qname: 'hidden.any.test.', qtype: 'SVCB', rcode: 'NOERROR', flags: 'qr aa', answer: ['hidden.any.test. 3600 IN SVCB 1 ns.deleg.any.test.'] },
];
for (const c of svcb) test(`RFC 9460 §4.1 SVCB additional: ${c.title}`, () => checkCase(stepWith({}), c).then(() => undefined));
