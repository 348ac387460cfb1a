// Class CH server identity (BIND's version.bind/hostname.bind, RFC 4892 id.server and
// version.server): REFUSED unless configured, a TXT answer when configured.
import { test } from 'node:test';
import { AuthoritativeStep } from '../../src/authoritative/step.js';
import { ZoneSet } from '../../src/authoritative/zone-set.js';
import { checkCase, type DnsCase } from '../../src/authoritative/dns-case.js';

const none = new ZoneSet([]);
const quiet = new AuthoritativeStep(() => none, {});
const chatty = new AuthoritativeStep(() => none, { identity: { version: 'Portcullis 0.1', hostname: 'ns1.example.test' } });
const withId = new AuthoritativeStep(() => none, { identity: { hostname: 'ns1.example.test', serverId: 'fra-3' } });

const table: [string, AuthoritativeStep, DnsCase][] = [
  ['default', quiet, { qname: 'version.bind.', qclass: 'CH', qtype: 'TXT', rcode: 'REFUSED', flags: 'qr' }],
  ['default', quiet, { qname: 'hostname.bind.', qclass: 'CH', qtype: 'TXT', rcode: 'REFUSED', flags: 'qr' }],
  ['default', quiet, { qname: 'id.server.', qclass: 'CH', qtype: 'TXT', rcode: 'REFUSED', flags: 'qr' }],
  ['default', quiet, { qname: 'version.server.', qclass: 'CH', qtype: 'TXT', rd: true, rcode: 'REFUSED', flags: 'qr rd' }],
  ['configured', chatty, { qname: 'version.bind.', qclass: 'CH', qtype: 'TXT', rcode: 'NOERROR', flags: 'qr aa', answer: ['version.bind. 0 CH TXT "Portcullis 0.1"'] }],
  ['configured', chatty, { qname: 'VERSION.Bind.', qclass: 'CH', qtype: 'TXT', rcode: 'NOERROR', flags: 'qr aa', answer: ['VERSION.Bind. 0 CH TXT "Portcullis 0.1"'] }],
  ['configured', chatty, { qname: 'version.server.', qclass: 'CH', qtype: 'ANY', rcode: 'NOERROR', flags: 'qr aa', answer: ['version.server. 0 CH TXT "Portcullis 0.1"'] }],
  ['configured', chatty, { qname: 'hostname.bind.', qclass: 'CH', qtype: 'TXT', rcode: 'NOERROR', flags: 'qr aa', answer: ['hostname.bind. 0 CH TXT "ns1.example.test"'] }],
  ['configured, id.server falls back to the hostname', chatty, { qname: 'id.server.', qclass: 'CH', qtype: 'TXT', rcode: 'NOERROR', flags: 'qr aa', answer: ['id.server. 0 CH TXT "ns1.example.test"'] }],
  ['configured serverId', withId, { qname: 'id.server.', qclass: 'CH', qtype: 'TXT', rcode: 'NOERROR', flags: 'qr aa', answer: ['id.server. 0 CH TXT "fra-3"'] }],
  ['version not configured while hostname is', withId, { qname: 'version.bind.', qclass: 'CH', qtype: 'TXT', rcode: 'REFUSED', flags: 'qr' }],
  ['configured, qtype A: NODATA', chatty, { qname: 'version.bind.', qclass: 'CH', qtype: 'A', rcode: 'NOERROR', flags: 'qr aa' }],
  ['class IN version.bind is not identity', chatty, { qname: 'version.bind.', qclass: 'IN', qtype: 'TXT', rcode: 'NEXT' }],
  ['other CH names are not ours', chatty, { qname: 'authors.bind.', qclass: 'CH', qtype: 'TXT', rcode: 'NEXT' }],
];

for (const [what, step, c] of table) test(`CH identity (${what}): ${c.qname} ${c.qclass} ${c.qtype}`, () => checkCase(step, c).then(() => undefined));
