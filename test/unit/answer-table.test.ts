// The authoritative step's answer table: keys by question bytes (case-folded), answers in one
// arena, growth, replacement and the limits that empty it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnswerTable } from '../../src/authoritative/answer-table.js';
import { questionHash, questionKeyMatches, wireQuestionKey } from '../../src/transport/fast.js';
import { questionNameEnd } from '../../src/authoritative/step.js';
import { encodeMessage, makeMessage, Name, RRType } from '../../src/wire/index.js';

function query(name: string, type: number = RRType.A, id = 1): { raw: Uint8Array; end: number } {
  const raw = encodeMessage(makeMessage({ id, question: [{ name: Name.parse(name), type, class: 1 }] }));
  return { raw, end: questionNameEnd(raw) };
}

const bytes = (...v: number[]): Uint8Array => Uint8Array.from(v);

test('questionHash and questionKeyMatches follow wireQuestionKey: case-folded name, type, class, DO', () => {
  const a = query('WwW.Example.TEST.');
  const b = query('www.example.test.');
  assert.equal(questionHash(a.raw, a.end, false), questionHash(b.raw, b.end, false));
  assert.equal(wireQuestionKey(a.raw, a.end, false), wireQuestionKey(b.raw, b.end, false));
  assert.notEqual(questionHash(a.raw, a.end, false), questionHash(a.raw, a.end, true), 'DO is part of the key');
  const aaaa = query('www.example.test.', RRType.AAAA);
  assert.notEqual(questionHash(b.raw, b.end, false), questionHash(aaaa.raw, aaaa.end, false), 'so is the type');
  const key = Buffer.from(wireQuestionKey(b.raw, b.end, true), 'latin1');
  assert.ok(questionKeyMatches(key, 0, a.raw, a.end, true));
  assert.ok(!questionKeyMatches(key, 0, a.raw, a.end, false));
  assert.ok(!questionKeyMatches(key, 0, aaaa.raw, aaaa.end, true));
});

test('AnswerTable: find in any case, replace in place, keep every entry through growth', () => {
  const t = new AnswerTable<string>(100_000);
  const q = query('host.example.test.');
  const h = (x: { raw: Uint8Array; end: number }, dnssec = false) => questionHash(x.raw, x.end, dnssec);
  assert.equal(t.find(q.raw, q.end, false, h(q)), -1, 'empty');
  t.set(q.raw, q.end, false, h(q), bytes(1, 2, 3), 'first');
  const mixed = query('HoSt.ExAmPlE.tEsT.');
  const e = t.find(mixed.raw, mixed.end, false, h(mixed));
  assert.ok(e >= 0);
  assert.equal(t.metaOf(e), 'first');
  assert.deepEqual([...t.answer(e)], [1, 2, 3]);
  assert.equal(t.find(q.raw, q.end, true, h(q, true)), -1, 'DO set: another question');
  t.set(mixed.raw, mixed.end, false, h(mixed), bytes(9, 8, 7, 6), 'second');
  assert.equal(t.size, 1, 'replaced, not added');
  const e2 = t.find(q.raw, q.end, false, h(q));
  assert.equal(t.metaOf(e2), 'second');
  const out = new Uint8Array(8);
  t.copyAnswer(e2, out);
  assert.deepEqual([...out.subarray(0, t.answerSize(e2))], [9, 8, 7, 6]);
  // Through many doublings of the slot table (from 64 slots), the entry arrays and the arena
  // (from 4 KiB): every entry still found, each with its own answer.
  const n = 5000;
  for (let i = 0; i < n; i++) {
    const x = query(`n${i}.example.test.`, i % 2 ? RRType.A : RRType.AAAA);
    t.set(x.raw, x.end, i % 3 === 0, h(x, i % 3 === 0), Uint8Array.from({ length: 20 + (i % 50) }, (_, k) => (i + k) & 0xff), `m${i}`);
  }
  assert.equal(t.size, n + 1);
  for (let i = 0; i < n; i++) {
    const x = query(`N${i}.EXAMPLE.test.`, i % 2 ? RRType.A : RRType.AAAA);
    const f = t.find(x.raw, x.end, i % 3 === 0, h(x, i % 3 === 0));
    assert.ok(f >= 0, `n${i} found`);
    assert.equal(t.metaOf(f), `m${i}`);
    const a = t.answer(f);
    assert.equal(a.length, 20 + (i % 50));
    assert.equal(a[0], i & 0xff);
    assert.equal(t.find(x.raw, x.end, i % 3 !== 0, h(x, i % 3 !== 0)), -1, 'the other DO is not kept');
  }
  t.clear();
  assert.equal(t.size, 0);
  assert.equal(t.find(q.raw, q.end, false, h(q)), -1, 'cleared');
});

test('AnswerTable: full when the entries or the arena bytes would pass their limits', () => {
  const t = new AnswerTable<number>(2, 200);
  const a = query('a.example.test.');
  const b = query('b.example.test.');
  t.set(a.raw, a.end, false, questionHash(a.raw, a.end, false), new Uint8Array(50), 1);
  t.set(b.raw, b.end, false, questionHash(b.raw, b.end, false), new Uint8Array(50), 2);
  const found = t.find(a.raw, a.end, false, questionHash(a.raw, a.end, false));
  assert.equal(t.full(a.end, 10, -1), true, 'a third entry');
  assert.equal(t.full(a.end, 10, found), false, 'a replacement of the same size class');
  assert.equal(t.full(a.end, 100, found), true, 'past 200 bytes of keys and answers');
});

test('AnswerTable: a copied answer is the current one after a replacement, the arena moving and an emptying', () => {
  const t = new AnswerTable<string>(100_000);
  const h = (x: { raw: Uint8Array; end: number }) => questionHash(x.raw, x.end, false);
  const out = new Uint8Array(64);
  const copy = (e: number): number[] => {
    out.fill(0);
    t.copyAnswer(e, out);
    return [...out.subarray(0, t.answerSize(e))];
  };
  const q = query('a.example.test.');
  t.set(q.raw, q.end, false, h(q), bytes(1, 2, 3), 'a');
  const e = t.find(q.raw, q.end, false, h(q));
  assert.deepEqual(copy(e), [1, 2, 3]);
  assert.equal(t.answer(e), t.answer(e), 'the view is kept between copies');
  // Replaced: the kept view of the old answer must not be used.
  t.set(q.raw, q.end, false, h(q), bytes(4, 5, 6, 7), 'a2');
  assert.deepEqual(copy(e), [4, 5, 6, 7]);
  // Enough entries to move the arena several times: every answer still reads back as stored.
  const all: Array<{ q: { raw: Uint8Array; end: number }; answer: number[] }> = [];
  for (let i = 0; i < 3000; i++) {
    const qi = query(`h${i}.example.test.`);
    const answer = [i & 255, (i >> 8) & 255, 7, 9];
    t.set(qi.raw, qi.end, false, h(qi), Uint8Array.from(answer), `h${i}`);
    all.push({ q: qi, answer });
    // Copy some early entries while the arena grows, so they hold views of an old arena.
    if (i % 100 === 0) for (const x of all.slice(0, 5)) assert.deepEqual(copy(t.find(x.q.raw, x.q.end, false, h(x.q))), x.answer);
  }
  for (const x of all) assert.deepEqual(copy(t.find(x.q.raw, x.q.end, false, h(x.q))), x.answer);
  assert.deepEqual(copy(e), [4, 5, 6, 7]);
  // No view of an arena the table has left behind (it would keep that arena in memory).
  assert.equal(new Set(all.map((x) => t.answer(t.find(x.q.raw, x.q.end, false, h(x.q))).buffer)).size, 1);
  // Emptied, then refilled: entry numbers are reused for other answers.
  t.clear();
  const z = query('z.example.test.');
  t.set(z.raw, z.end, false, h(z), bytes(42), 'z');
  assert.deepEqual(copy(t.find(z.raw, z.end, false, h(z))), [42]);
  assert.equal(t.find(q.raw, q.end, false, h(q)), -1);
});
