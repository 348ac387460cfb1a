// WALLET (262), DSYNC (66), HHIT (67), BRID (68): text -> wire -> text vectors, worked out by
// hand from the layouts (WALLET as TXT; DSYNC rrtype u16, scheme u8, port u16, target name;
// HHIT and BRID one base64 blob), and the records of dnspython's example zone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Name, RRType, decodeRdata, encodeRdata, rdataToText, recordFromText, typeFromString, typeToString, TextError } from '../../src/wire/index.js';

const origin = Name.parse('example.');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

const cases: { text: string; hex: string; out?: string }[] = [
  { text: 'WALLET "EXAMPLE" "01234567890abcdef"', hex: '07' + ascii('EXAMPLE') + '11' + ascii('01234567890abcdef') },
  { text: 'WALLET "a b"', hex: '03' + ascii('a b') },
  // rrtype CDS (59), scheme 1 (NOTIFY), port 5300, target uncompressed.
  { text: 'DSYNC CDS NOTIFY 5300 notify-endpoint.parent.net.', hex: '003b' + '01' + '14b4' + '0f' + ascii('notify-endpoint') + '06' + ascii('parent') + '03' + ascii('net') + '00' },
  { text: 'DSYNC CSYNC 128 443 n.example.', hex: '003e' + '80' + '01bb' + '01' + ascii('n') + '07' + ascii('example') + '00' },
  { text: 'DSYNC TYPE65000 1 53 n', out: 'DSYNC TYPE65000 NOTIFY 53 n.example.', hex: 'fde8' + '01' + '0035' + '01' + ascii('n') + '07' + ascii('example') + '00' },
  { text: 'HHIT AQIDBA==', hex: '01020304' },
  { text: 'BRID owAAAYIEUQ==', hex: 'a3000001820451' },
];

test('type numbers and mnemonics (IANA RR TYPEs)', () => {
  assert.deepEqual([RRType.DSYNC, RRType.HHIT, RRType.BRID, RRType.WALLET], [66, 67, 68, 262]);
  for (const m of ['DSYNC', 'HHIT', 'BRID', 'WALLET']) assert.equal(typeToString(typeFromString(m)!), m);
});

test('vectors: text encodes to the expected RDATA, which decodes and prints back', () => {
  for (const c of cases) {
    const rr = recordFromText(`x.example. 3600 IN ${c.text}`, origin);
    const wire = encodeRdata(rr.type, rr.data);
    assert.equal(hex(wire), c.hex, c.text);
    const back = decodeRdata(rr.type, wire);
    assert.ok(!(back instanceof Uint8Array), `${c.text}: a codec, not opaque bytes`);
    assert.equal(`${c.text.split(' ')[0]} ${rdataToText(rr.type, back)}`, c.out ?? c.text);
  }
});

test('DSYNC: the target is not compressed and keeps its case in canonical form', () => {
  const rr = recordFromText('x.example. 60 IN DSYNC CDS NOTIFY 53 N.Example.', origin);
  assert.equal(hex(encodeRdata(rr.type, rr.data, true)), '003b010035' + '01' + ascii('N') + '07' + ascii('Example') + '00');
});

test('malformed text is refused with the field named', () => {
  const bad: [string, RegExp][] = [
    ['DSYNC CDS NOTIFY 70000 n.', /port|number|65535/i],
    ['DSYNC CDS BOGUS 53 n.', /scheme/],
    ['DSYNC NOPE NOTIFY 53 n.', /type/],
    ['DSYNC CDS NOTIFY', /missing|expected/i],
    ['HHIT !!!', /base64/i],
  ];
  for (const [text, re] of bad) assert.throws(() => recordFromText(`x.example. 60 IN ${text}`, origin), (e: unknown) => e instanceof TextError && re.test(e.message), text);
});
