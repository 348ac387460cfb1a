import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Name } from './name.js';
import { WireError, TextError } from './errors.js';
import { WireWriter } from './writer.js';

test('parse: absolute, relative, @, escapes', () => {
  const origin = Name.parse('example.test.');
  assert.equal(Name.parse('www', origin).toString(), 'www.example.test.');
  assert.equal(Name.parse('@', origin), origin);
  assert.equal(Name.parse('.').toString(), '.');
  const esc = Name.parse('a\\.b.c\\032d.\\255.');
  assert.deepEqual(esc.labels, ['a.b', 'c d', '\xff']);
  assert.equal(esc.toString(), 'a\\.b.c\\032d.\\255.');
  assert.throws(() => Name.parse('a..b.'), TextError);
  assert.throws(() => Name.parse('x'), /without an origin/);
  assert.throws(() => Name.parse('\\256.'), TextError);
});

test('limits: 63-octet labels and 255-octet names', () => {
  assert.doesNotThrow(() => Name.parse('a'.repeat(63) + '.'));
  assert.throws(() => Name.parse('a'.repeat(64) + '.'), /63/);
  const l = 'a'.repeat(63);
  // 4 * 64 + 1 = 257 > 255
  assert.throws(() => Name.parse(`${l}.${l}.${l}.${l}.`), /255/);
  assert.doesNotThrow(() => Name.parse(`${l}.${l}.${l}.${'a'.repeat(61)}.`));
});

test('case: preserved in text, folded in key and equality', () => {
  const a = Name.parse('WwW.Example.TEST.');
  const b = Name.parse('www.example.test.');
  assert.equal(a.toString(), 'WwW.Example.TEST.');
  assert.equal(a.key, b.key);
  assert.ok(a.equals(b));
  assert.ok(a.isSubdomainOf(Name.parse('EXAMPLE.test.')));
  assert.ok(!Name.parse('example.test.').isSubdomainOf(a));
});

test('canonical order (RFC 4034 §6.1 example)', () => {
  const ordered = ['example.', 'a.example.', 'yljkjljk.a.example.', 'Z.a.example.', 'zABC.a.EXAMPLE.', 'z.example.', '\\001.z.example.', '*.z.example.', '\\200.z.example.'];
  const names = ordered.map((t) => Name.parse(t));
  const shuffled = [...names].reverse().sort((x, y) => x.compare(y));
  assert.deepEqual(shuffled.map(String), names.map(String));
});

test('wire: compression pointers and their rejection', () => {
  const w = new WireWriter();
  w.name(Name.parse('www.example.test.'));
  w.name(Name.parse('mail.EXAMPLE.test.'));
  const buf = w.finish();
  // second name: 4 mail + pointer
  assert.equal(buf.length, 18 + 5 + 2);
  const first = Name.fromWire(buf, 0, buf.length);
  const second = Name.fromWire(buf, first.next, buf.length);
  assert.equal(second.name.toString(), 'mail.example.test.');
  assert.equal(second.next, buf.length);
  // pointer to itself: a loop
  assert.throws(() => Name.fromWire(Uint8Array.of(0xc0, 0x00), 0, 2), WireError);
  // forward pointer
  assert.throws(() => Name.fromWire(Uint8Array.of(0xc0, 0x02, 0x00), 0, 3), /backwards/);
  // label overrun
  assert.throws(() => Name.fromWire(Uint8Array.of(5, 0x61, 0x62), 0, 3), /past the end/);
  // extended label types
  assert.throws(() => Name.fromWire(Uint8Array.of(0x41, 0), 0, 2), /label type/);
});

test('relative printing', () => {
  const o = Name.parse('example.test.');
  assert.equal(Name.parse('a.b.example.test.').toText(o), 'a.b');
  assert.equal(o.toText(o), '@');
  assert.equal(Name.parse('other.').toText(o), 'other.');
});

test('the writer compresses by key but keeps no key in the name it writes, only in its ancestors', () => {
  const origin = Name.parse('example.test.');
  // Names of one zone, as a transfer writes them: owners below a shared origin object.
  const owners = ['a', 'B', 'c.d', 'e.d'].map((l) => Name.parse(l, origin));
  const w = new WireWriter();
  for (const n of owners) w.name(n);
  w.name(Name.parse('A.example.test.')); // another object, equal to the first owner
  const bytes = w.finish();
  // a.example.test. (16 bytes), then B + pointer, c.d + pointer, e + pointer to d, pointer to a.
  assert.deepEqual([...bytes.subarray(16)], [1, 0x42, 0xc0, 2, 1, 0x63, 1, 0x64, 0xc0, 2, 1, 0x65, 0xc0, 22, 0xc0, 0]);
  const kept = (n: Name): unknown => Reflect.get(n, '_key');
  for (const n of owners) assert.equal(kept(n), undefined, `${n} keeps no key`);
  assert.equal(kept(origin), 'example.test.');
  assert.equal(kept(owners[2]!.parent()), 'd.example.test.');
  assert.equal(owners[0]!.key, 'a.example.test.'); // and `key` still keeps it when asked
  assert.equal(kept(owners[0]!), 'a.example.test.');
});

test('passingKey is key, for names with escapes, upper case, one label and none', () => {
  const texts = ['.', 'com.', 'A.Example.TEST.', 'a\\.b.c\\032d.\\255.', 'x.y.z.w.v.', '*.wild.example.', '\\000.\\046.'];
  for (const t of texts) {
    const expected = Name.parse(t).key;
    const fresh = Name.fromLabels(Name.parse(t).labels); // new objects, no key kept yet
    assert.equal(fresh.passingKey, expected, t);
    if (t !== '.') assert.equal(Reflect.get(fresh, '_key'), undefined, `${t}: not kept`); // the root is shared
  }
});
