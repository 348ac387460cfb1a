import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeMessage, Name, Rcode, RRClass, RRType, recordFromText, recordToText, type ResourceRecord } from '../wire/index.js';
import { applyUpdate } from './update.js';
import { RecordStore } from './record-set.js';

const origin = Name.parse('example.test.');
const zoneText = [
  '@ 3600 IN SOA ns1 hostmaster 10 3600 600 86400 300',
  '@ 3600 IN NS ns1',
  'ns1 3600 IN A 192.0.2.53',
  'www 300 IN A 192.0.2.1',
  'www 300 IN A 192.0.2.2',
  'alias 300 IN CNAME www',
];
const store = () => new RecordStore(zoneText.map((l) => recordFromText(l, origin)));
const rr = (text: string): ResourceRecord => recordFromText(text, origin);
/** Deletions are written with class ANY/NONE and empty RDATA, as nsupdate sends them. */
const del = (name: string, type: number, cls: number): ResourceRecord => ({ name: Name.parse(name, origin), type, class: cls, ttl: 0, data: new Uint8Array(0) });
const update = (prereq: ResourceRecord[], updates: ResourceRecord[]) =>
  makeMessage({ opcode: 5, question: [{ name: origin, type: RRType.SOA, class: RRClass.IN }], answer: prereq, authority: updates });
const texts = (s: RecordStore) => [...s.records()].map((r) => recordToText(r, origin)).sort();

test('RFC 2136 §3.4: add, serial bump, delete RR, delete RRset, delete name', () => {
  const s = store();
  let r = applyUpdate(origin, RRClass.IN, s, update([], [rr('new 600 IN TXT "hello"')]));
  assert.equal(r.rcode, Rcode.NOERROR);
  assert.deepEqual(r.serial, { from: 10, to: 11 });
  assert.equal(r.added.length, 2, 'the TXT and the new SOA');
  assert.equal(r.deleted.length, 1, 'the old SOA');
  r = applyUpdate(origin, RRClass.IN, s, update([], [{ ...rr('www 0 IN A 192.0.2.1'), class: RRClass.NONE }]));
  assert.equal(r.rcode, Rcode.NOERROR);
  assert.deepEqual(s.getSet(Name.parse('www', origin), RRType.A).map((x) => x.data.address), ['192.0.2.2']);
  r = applyUpdate(origin, RRClass.IN, s, update([], [del('www', RRType.A, RRClass.ANY)]));
  assert.equal(s.getSet(Name.parse('www', origin), RRType.A).length, 0);
  r = applyUpdate(origin, RRClass.IN, s, update([], [del('new', RRType.ANY, RRClass.ANY)]));
  assert.ok(!s.hasName(Name.parse('new', origin)));
  assert.equal((s.soa(origin)!.data as { serial: number }).serial, 14);
});

test('RFC 2136 §3.2: prerequisites, all or nothing', () => {
  const s = store();
  const before = texts(s);
  const cases: Array<[ResourceRecord, number]> = [
    [del('nothere', RRType.ANY, RRClass.ANY), Rcode.NXDOMAIN],
    [del('www', RRType.MX, RRClass.ANY), Rcode.NXRRSET],
    [del('www', RRType.ANY, RRClass.NONE), Rcode.YXDOMAIN],
    [del('www', RRType.A, RRClass.NONE), Rcode.YXRRSET],
    [{ ...rr('www 0 IN A 192.0.2.1') }, Rcode.NXRRSET], // value-dependent: the set has two records
    [{ ...rr('www 300 IN A 192.0.2.1') }, Rcode.FORMERR], // TTL must be 0
    [{ ...rr('other.invalid. 0 IN A 192.0.2.1') }, Rcode.NOTZONE],
  ];
  for (const [p, rcode] of cases) {
    const r = applyUpdate(origin, RRClass.IN, s, update([p], [rr('added 60 IN A 192.0.2.99')]));
    assert.equal(r.rcode, rcode, recordToText(p));
    assert.deepEqual(texts(s), before, 'nothing changed');
  }
  const ok = applyUpdate(origin, RRClass.IN, s, update([rr('www 0 IN A 192.0.2.1'), rr('www 0 IN A 192.0.2.2')], [rr('added 60 IN A 192.0.2.99')]));
  assert.equal(ok.rcode, Rcode.NOERROR, 'value-dependent prerequisite with the whole set');
});

test('RFC 2136 §3.4.2: CNAME rules, apex protection, SOA serial rules, no-op updates', () => {
  const s = store();
  let r = applyUpdate(origin, RRClass.IN, s, update([], [rr('www 300 IN CNAME elsewhere')]));
  assert.equal(r.changed, false, 'no CNAME beside other data');
  r = applyUpdate(origin, RRClass.IN, s, update([], [rr('alias 300 IN A 192.0.2.7')]));
  assert.equal(r.changed, false, 'no data beside a CNAME');
  r = applyUpdate(origin, RRClass.IN, s, update([], [del('@', RRType.ANY, RRClass.ANY)]));
  assert.equal(r.changed, false, 'apex SOA and NS survive delete-name');
  r = applyUpdate(origin, RRClass.IN, s, update([], [{ ...rr('@ 0 IN NS ns1'), class: RRClass.NONE }]));
  assert.equal(r.changed, false, 'the last apex NS is kept');
  r = applyUpdate(origin, RRClass.IN, s, update([], [rr('@ 3600 IN SOA ns1 hostmaster 5 3600 600 86400 300')]));
  assert.equal(r.changed, false, 'an older serial is ignored');
  r = applyUpdate(origin, RRClass.IN, s, update([], [rr('@ 3600 IN SOA ns1 hostmaster 100 3600 600 86400 300')]));
  assert.deepEqual(r.serial, { from: 10, to: 100 }, 'a newer serial is taken as is');
  r = applyUpdate(origin, RRClass.IN, s, update([], [rr('www 300 IN A 192.0.2.1')]));
  assert.equal(r.changed, false, 'adding an existing record changes nothing, serial stays');
  r = applyUpdate(origin, RRClass.IN, s, update([], [rr('x 60 IN A 192.0.2.5'), del('x', RRType.A, RRClass.ANY)]));
  assert.equal(r.changed, false, 'added then deleted in one update nets to nothing');
});

test('RFC 2136 §3.1 and §3.4.1: zone section and prescan errors', () => {
  const s = store();
  const wrongZone = makeMessage({ opcode: 5, question: [{ name: Name.parse('other.test.'), type: RRType.SOA, class: RRClass.IN }] });
  assert.equal(applyUpdate(origin, RRClass.IN, s, wrongZone).rcode, Rcode.NOTAUTH);
  const noZone = makeMessage({ opcode: 5 });
  assert.equal(applyUpdate(origin, RRClass.IN, s, noZone).rcode, Rcode.FORMERR);
  assert.equal(applyUpdate(origin, RRClass.IN, s, update([], [rr('elsewhere.invalid. 60 IN A 192.0.2.1')])).rcode, Rcode.NOTZONE);
  assert.equal(applyUpdate(origin, RRClass.IN, s, update([], [{ ...rr('a 60 IN A 192.0.2.1'), class: RRClass.ANY }])).rcode, Rcode.FORMERR);
});
