// Name as a chain of (first label, parent): every member must agree with a plain label-array
// model of RFC 1035/4034/4343 names, for random names with upper case, escapes and odd octets;
// names parsed relative to an origin share the origin's object.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Name, TextError, WireWriter, WireReader } from '../../src/wire/index.js';

/** Deterministic generator (no Math.random). */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
}

const lower = (l: string): string => l.replace(/[A-Z]/g, (c) => c.toLowerCase());
const esc = (l: string): string => [...l].map((ch) => {
  const c = ch.charCodeAt(0);
  if (c <= 0x20 || c >= 0x7f) return '\\' + String(c).padStart(3, '0');
  return '.\\"();@$'.includes(ch) ? '\\' + ch : ch;
}).join('');
/** The model: canonical order compares lower-case labels from the right as octet strings. */
function modelCompare(a: string[], b: string[]): number {
  for (let i = a.length - 1, j = b.length - 1; i >= 0 && j >= 0; i--, j--) {
    const x = lower(a[i]!);
    const y = lower(b[j]!);
    if (x !== y) return x < y ? -1 : 1;
  }
  return Math.sign(a.length - b.length);
}

function randomLabels(r: () => number): string[] {
  const alphabet = ['a', 'b', 'Z', 'y', '-', '0', '*', '.', ' ', '\\', '\x00', '\xff', '\x7f', 'A'];
  const n = Math.floor(r() * 4);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + Math.floor(r() * 3);
    let l = '';
    for (let k = 0; k < len; k++) l += r() < 0.7 ? alphabet[Math.floor(r() * 4)] : alphabet[Math.floor(r() * alphabet.length)];
    out.push(l);
  }
  return out;
}

test('random names: members agree with the label-array model', (t) => {
  const r = rng(7);
  const tails = [[], ['test'], ['Example', 'TEST'], ['b', 'example', 'test']];
  const names: { labels: string[]; name: Name }[] = [];
  for (let i = 0; i < 400; i++) {
    const labels = [...randomLabels(r), ...tails[i % tails.length]!];
    const text = labels.length ? labels.map(esc).join('.') + '.' : '.';
    const name = Name.parse(text);
    names.push({ labels, name });
    assert.deepEqual(name.labels, labels, text);
    assert.deepEqual(name.lowerLabels, labels.map(lower), text);
    assert.equal(name.labelCount, labels.length);
    assert.equal(name.toString(), text);
    assert.equal(name.key, labels.length ? labels.map((l) => esc(lower(l))).join('.') + '.' : '.');
    assert.equal(name.wireLength, labels.reduce((n, l) => n + l.length + 1, 1));
    assert.deepEqual([...name.toWire(true)], [...Name.fromLabels(labels.map(lower)).toWire()]);
    assert.ok(Name.parse(name.toString()).equals(name));
    assert.equal(name.toLowerCase().toString(), Name.fromLabels(labels.map(lower)).toString());
    for (let k = 0; k <= labels.length; k++) assert.deepEqual(name.parent(k).labels, labels.slice(k));
  }
  let pairs = 0;
  for (let i = 0; i < names.length; i++) {
    for (let j = i; j < Math.min(names.length, i + 40); j++) {
      const a = names[i]!;
      const b = names[j]!;
      assert.equal(a.name.compare(b.name), modelCompare(a.labels, b.labels), `${a.name} vs ${b.name}`);
      assert.equal(a.name.equals(b.name), modelCompare(a.labels, b.labels) === 0);
      const sub = a.labels.length >= b.labels.length && modelCompare(a.labels.slice(a.labels.length - b.labels.length), b.labels) === 0;
      assert.equal(a.name.isSubdomainOf(b.name), sub, `${a.name} under ${b.name}`);
      pairs++;
    }
  }
  t.diagnostic(`${names.length} names, ${pairs} pairs compared`);
});

test('relative names share the origin object; parents are shared, not copied', () => {
  const origin = Name.parse('Example.test.');
  const www = Name.parse('www', origin);
  const deep = Name.parse('a.b', origin);
  assert.equal(www.parent(), origin);
  assert.equal(deep.parent(2), origin);
  assert.equal(deep.parent().parent(), deep.parent(2));
  assert.equal(www.toString(), 'www.Example.test.');
  assert.equal(www.key, 'www.example.test.');
  assert.equal(Name.parse('@', origin), origin);
  assert.equal(www.firstLabel, 'www');
  assert.equal(origin.firstLowerLabel, 'example');
  assert.equal(Name.root.firstLabel, '');
  // Suffix sharing with the previous parse on the same base, case kept exactly.
  const host = Name.parse('host', origin);
  const mail = Name.parse('mail.host', origin);
  assert.equal(mail.parent(), host);
  assert.equal(Name.parse('mail.host', origin), mail);
  const upper = Name.parse('x.HOST', origin);
  assert.notEqual(upper.parent(), host);
  assert.equal(upper.toString(), 'x.HOST.Example.test.');
  assert.equal(Name.parse('host.', undefined).toString(), 'host.');
  assert.equal(Name.parse('y.host.Example.test.').toString(), 'y.host.Example.test.');
  // Absolute names share with the last absolute name, across relative names parsed between
  // (delegations to one provider: `child NS ns1.provider.example.`).
  const ns1 = Name.parse('ns1.provider.example.');
  const child = Name.parse('child', origin);
  const ns2 = Name.parse('ns2.provider.example.');
  assert.equal(ns2.parent(), ns1.parent(), 'provider.example. shared across a relative owner');
  assert.equal(Name.parse('other', origin).parent(), child.parent(), 'and the relative side still shares its origin');
  assert.equal(ns2.toString(), 'ns2.provider.example.');
});

test('limits and errors are those of the array form', () => {
  const origin = Name.parse(`${'o'.repeat(63)}.${'p'.repeat(63)}.${'q'.repeat(63)}.`);
  assert.doesNotThrow(() => Name.parse('a'.repeat(61), origin));
  assert.throws(() => Name.parse('a'.repeat(62), origin), (e: unknown) => e instanceof TextError && /longer than 255/.test(e.message));
  assert.throws(() => Name.parse('a..b.'), /empty label/);
  assert.throws(() => Name.parse('.a.'), /empty label/);
  assert.throws(() => Name.parse('a\\'), /dangling escape/);
  assert.throws(() => Name.parse('\u20ac.'), /non-ASCII/);
  assert.throws(() => Name.fromLabels(['x'.repeat(64)]), RangeError);
  assert.throws(() => Name.parse('x').prepend(''), /without an origin/);
  assert.throws(() => Name.root.prepend(''), /empty label/);
  assert.equal(Name.parse('a.b.c.').replaceSuffix(Name.parse('B.c.'), Name.parse('x.y.')).toString(), 'a.x.y.');
});

test('compression: suffixes of chained names are reused as pointers', () => {
  const origin = Name.parse('example.test.');
  const w = new WireWriter();
  w.name(Name.parse('www', origin));
  w.name(Name.parse('MAIL', origin));
  w.name(Name.parse('www.example.TEST.'));
  const buf = w.finish();
  // www.example.test. (18 octets), MAIL + pointer (7), pointer (2).
  assert.equal(buf.length, 18 + 7 + 2);
  const r = new WireReader(buf);
  assert.equal(r.name().toString(), 'www.example.test.');
  assert.equal(r.name().toString(), 'MAIL.example.test.');
  assert.equal(r.name().toString(), 'www.example.test.');
});
