import { questionKeyMatches } from '../transport/fast.js';
import { spreadHash } from '../zone/zone.js';

const HEADER_SIZE = 12;
/** Bytes of a key after the name: type and class as in the query, then DO. */
const KEY_TAIL = 5;

/**
 * Precompiled answers by question, for the authoritative step: an open-addressing hash table
 * (linear probing, at most half full) whose keys and answer bytes sit side by side in one
 * growing byte arena, and whose slots keep each key's hash.
 *
 * Why not a Map keyed by a string: a hit then costs a key string built from the query, a probe
 * that follows a bucket chain through entry and key-string objects, the entry object, and the
 * answer's typed array, its buffer object and its backing store, each somewhere else in a heap
 * of hundreds of megabytes. Here a hit reads two slot arrays, the key and the answer (adjacent
 * in the arena) and one small metadata object: about half the time per query in a benchmark
 * with the cache evicted between lookups.
 *
 * The key is the question name's bytes ASCII-folded to lower case, the type and class bytes and
 * DO (`questionHash` in transport/fast.ts hashes the same bytes straight from the query). Only
 * uncompressed question names are kept. Entries are never removed one by one: the owner empties
 * the table when it is full (`maxEntries`, or `maxBytes` of arena), so a flood of distinct
 * names cannot grow it without bound.
 */
export class AnswerTable<M> {
  private slots = new Int32Array(0);
  private slotHashes = new Int32Array(0);
  private mask = -1;
  /** Per entry: arena offset of its key and of its answer, their lengths, its metadata. */
  private keyAt = new Int32Array(0);
  private keyLength = new Uint16Array(0);
  private answerAt = new Int32Array(0);
  private answerLength = new Int32Array(0);
  private meta: M[] = [];
  private arena = new Uint8Array(0);
  private used = 0;
  /**
   * Per entry, a view of its answer in the arena, made by its first copy: copying then makes no
   * object (`set` of a view made per copy was a tenth of the bytes the fast path allocated;
   * about 25 ns a copy against 70–90). Emptied when the arena moves or the table is emptied.
   */
  private views: (Uint8Array | undefined)[] = [];

  constructor(readonly maxEntries: number, readonly maxBytes = 64 * 1024 * 1024) {}

  get size(): number {
    return this.meta.length;
  }

  /** The entry of the question in `raw` (name ending at `nameEnd`, hash `hash`), or -1. */
  find(raw: Uint8Array, nameEnd: number, dnssec: boolean, hash: number): number {
    const mask = this.mask;
    if (mask < 0) return -1;
    const slots = this.slots;
    const hashes = this.slotHashes;
    const n = nameEnd - HEADER_SIZE + KEY_TAIL;
    for (let i = spreadHash(hash) & mask; ; i = (i + 1) & mask) {
      const at = slots[i]!;
      if (at === 0) return -1;
      if (hashes[i] === hash) {
        const e = at - 1;
        if (this.keyLength[e] === n && questionKeyMatches(this.arena, this.keyAt[e]!, raw, nameEnd, dnssec)) return e;
      }
    }
  }

  metaOf(entry: number): M {
    return this.meta[entry]!;
  }

  /** Length of the entry's answer. */
  answerSize(entry: number): number {
    return this.answerLength[entry]!;
  }

  /** Copies the entry's answer to the start of `out` (which must be large enough). */
  copyAnswer(entry: number, out: Uint8Array): void {
    // set() of a view beats a byte loop from 48 bytes up (45 ns against 80 ns at 48 bytes and
    // 165 ns at 96, Node 20), and a kept view spares making one per copy.
    out.set(this.answer(entry));
  }

  /** A view of the entry's answer (valid until the next `set` or `clear`). */
  answer(entry: number): Uint8Array {
    let v = this.views[entry];
    if (v === undefined) {
      const from = this.answerAt[entry]!;
      this.views[entry] = v = this.arena.subarray(from, from + this.answerLength[entry]!);
    }
    return v;
  }

  /**
   * Keeps `answer` (copied) and `meta` for the question in `raw`, replacing what the table held
   * for it; `found` is its entry if the caller has looked it up already (-1: none). The caller
   * empties the table first when `full` says so.
   */
  set(raw: Uint8Array, nameEnd: number, dnssec: boolean, hash: number, answer: Uint8Array, meta: M, found = this.find(raw, nameEnd, dnssec, hash)): void {
    const keyBytes = found >= 0 ? 0 : nameEnd - HEADER_SIZE + KEY_TAIL;
    this.reserve(keyBytes + answer.length);
    const a = this.arena;
    let e = found;
    if (e < 0) {
      e = this.meta.length;
      this.growEntries(e + 1);
      const at = this.used;
      for (let i = HEADER_SIZE; i < nameEnd; i++) {
        const c = raw[i]!;
        a[at + i - HEADER_SIZE] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
      }
      const t = at + nameEnd - HEADER_SIZE;
      a[t] = raw[nameEnd]!;
      a[t + 1] = raw[nameEnd + 1]!;
      a[t + 2] = raw[nameEnd + 2]!;
      a[t + 3] = raw[nameEnd + 3]!;
      a[t + 4] = dnssec ? 1 : 0;
      this.keyAt[e] = at;
      this.keyLength[e] = keyBytes;
      this.used += keyBytes;
      this.meta.push(meta);
      this.place(hash, e + 1);
    } else {
      this.meta[e] = meta;
    }
    // A replaced answer's old bytes stay in the arena until the table is emptied.
    this.views[e] = undefined;
    a.set(answer, this.used);
    this.answerAt[e] = this.used;
    this.answerLength[e] = answer.length;
    this.used += answer.length;
  }

  /**
   * True when keeping an answer of `answerLength` bytes for a question whose name ends at
   * `nameEnd` would pass a limit; `found` is the question's entry (-1: a new one, key included).
   */
  full(nameEnd: number, answerLength: number, found: number): boolean {
    if (found >= 0) return this.used + answerLength > this.maxBytes;
    return this.used + nameEnd - HEADER_SIZE + KEY_TAIL + answerLength > this.maxBytes || this.meta.length >= this.maxEntries;
  }

  clear(): void {
    this.meta = [];
    this.views = [];
    this.used = 0;
    this.slots.fill(0);
  }

  private place(hash: number, value: number): void {
    if ((this.meta.length + 1) * 2 > this.slots.length) this.growSlots();
    const slots = this.slots;
    const mask = this.mask;
    let i = spreadHash(hash) & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = value;
    this.slotHashes[i] = hash;
  }

  private growSlots(): void {
    const oldSlots = this.slots;
    const oldHashes = this.slotHashes;
    // Small at first: the resolver keeps two tables per view, and most views hold few replies.
    const size = Math.max(64, oldSlots.length * 2);
    this.slots = new Int32Array(size);
    this.slotHashes = new Int32Array(size);
    this.mask = size - 1;
    for (let i = 0; i < oldSlots.length; i++) {
      const v = oldSlots[i]!;
      if (v === 0) continue;
      let j = spreadHash(oldHashes[i]!) & this.mask;
      while (this.slots[j] !== 0) j = (j + 1) & this.mask;
      this.slots[j] = v;
      this.slotHashes[j] = oldHashes[i]!;
    }
  }

  private growEntries(n: number): void {
    if (n <= this.keyAt.length) return;
    const size = Math.max(32, this.keyAt.length * 2);
    const grow = <T extends Int32Array | Uint16Array>(old: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(old);
      return b;
    };
    this.keyAt = grow(this.keyAt, (k) => new Int32Array(k));
    this.keyLength = grow(this.keyLength, (k) => new Uint16Array(k));
    this.answerAt = grow(this.answerAt, (k) => new Int32Array(k));
    this.answerLength = grow(this.answerLength, (k) => new Int32Array(k));
  }

  private reserve(bytes: number): void {
    const need = this.used + bytes;
    if (need <= this.arena.length) return;
    const b = new Uint8Array(Math.max(need, 4096, this.arena.length * 2));
    b.set(this.arena.subarray(0, this.used));
    this.arena = b;
    this.views = []; // views of the old arena
  }
}
