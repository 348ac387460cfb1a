import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FastQuery, ViewCache } from './fast.js';

// The fast path's reused views: the same view object for the same length of the same buffer,
// a view of the buffer in use after `useOut`, and fresh views past the kept lengths.

test('FastQuery.outView: views of the current scratch space, kept per length and per buffer', () => {
  const q = new FastQuery();
  const a = q.outView(40);
  assert.equal(a.buffer, q.out.buffer);
  assert.equal(a.byteOffset, q.out.byteOffset);
  assert.equal(a.length, 40);
  assert.equal(q.outView(40), a, 'kept');
  assert.notEqual(q.outView(41), a);
  const slot = new Uint8Array(1024).subarray(512);
  const views: (Uint8Array | undefined)[] = [];
  q.useOut(slot, views);
  const b = q.outView(40);
  assert.notEqual(b, a, 'another buffer, another view');
  assert.equal(b.buffer, slot.buffer);
  assert.equal(b.byteOffset, 512);
  slot[0] = 99;
  assert.equal(b[0], 99, 'reads what is in the slot now');
  assert.equal(views[40], b, 'kept in the cache handed over with the buffer');
});

test('ViewCache: views of the first n bytes, one per n up to 4096, fresh above', () => {
  const buf = new Uint8Array(8192);
  const c = new ViewCache(buf.subarray(100));
  const v = c.get(12);
  assert.equal(v.byteOffset, 100);
  assert.equal(v.length, 12);
  assert.equal(c.get(12), v);
  assert.equal(c.get(0).length, 0);
  const large = c.get(5000);
  assert.equal(large.length, 5000);
  assert.notEqual(c.get(5000), large, 'not kept above 4096');
});
