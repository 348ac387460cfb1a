/**
 * A sliding window of a few numeric counters, kept as `buckets` fixed slices of time. Adding is
 * O(1) with no allocation; summing walks the slices. Slices older than the window are reset
 * lazily when their slot is reused, so an idle window costs nothing.
 */
export class SlidingCounters {
  private readonly epochs: Float64Array;
  private readonly values: Float64Array;

  constructor(
    readonly fields: number,
    readonly buckets: number,
    readonly bucketMs: number,
  ) {
    this.epochs = new Float64Array(buckets).fill(-Infinity);
    this.values = new Float64Array(fields * buckets);
  }

  get windowMs(): number {
    return this.buckets * this.bucketMs;
  }

  /** Offset of the slot for `time`, reset if it held an older slice. */
  slot(time: number): number {
    const e = Math.floor(time / this.bucketMs);
    const i = ((e % this.buckets) + this.buckets) % this.buckets;
    const base = i * this.fields;
    if (this.epochs[i] !== e) {
      this.epochs[i] = e;
      this.values.fill(0, base, base + this.fields);
    }
    return base;
  }

  add(base: number, field: number, v: number): void {
    this.values[base + field]! += v;
  }

  /** Sums every field over the window ending at `time` into `out`. */
  sum(time: number, out: Float64Array): Float64Array {
    out.fill(0);
    const e = Math.floor(time / this.bucketMs);
    for (let i = 0; i < this.buckets; i++) {
      const be = this.epochs[i]!;
      if (be > e - this.buckets && be <= e) {
        const base = i * this.fields;
        for (let f = 0; f < this.fields; f++) out[f]! += this.values[base + f]!;
      }
    }
    return out;
  }
}

/** Result of `RecentKeys.see`: never seen (or forgotten), seen before the window, seen inside it. */
export const Seen = { Never: 0, BeforeWindow: 1, InWindow: 2 } as const;
export type Seen = (typeof Seen)[keyof typeof Seen];

const EMPTY_INDEX = new Int32Array(0);

/** FNV-1a over the key's UTF-16 units, with the high bits folded in (the index masks low bits). */
function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 15)) | 0;
}

/**
 * Remembers when keys (subdomains, clients) were last seen, up to a cap (the first-seen key is
 * forgotten first). Distinct counts in a window are "keys not seen inside the window", counted as they arrive.
 *
 * The keys live in a ring of slots (times in a parallel array), so forgetting the oldest key is
 * a slot overwrite. Finding the oldest entry of a Map instead (`keys().next()` after many
 * deletes) walks over every deleted entry still in its table: with a stream of new subdomains
 * that was a sixth of the server's busy time at 50k queries a second. A key finds its slot
 * through an open-addressing index of our own hash: a Map keyed by the names, with a delete and
 * an insert for every new one, cost a third more per call. The slot arrays and the index grow
 * with use, so a pair seen for a few names holds a few slots, not `cap`.
 */
export class RecentKeys {
  /** Open-addressing index (linear probing, at most half full): 1 + a key's slot, 0 for empty. */
  private index = EMPTY_INDEX;
  private mask = -1;
  private readonly keys: string[] = [];
  private readonly hashes: number[] = [];
  private readonly times: number[] = [];
  /** Once every slot is used: the slot of the first-seen key, overwritten next. */
  private oldest = 0;

  private readonly cap: number;

  constructor(cap: number) {
    this.cap = Math.max(1, cap);
  }

  see(key: string, time: number, windowMs: number): Seen {
    const h = keyHash(key);
    // Grown with the keys (at most half full), so a window that sees few keys stays small.
    if ((this.keys.length + 1) * 2 > this.index.length && this.keys.length < this.cap) this.grow();
    const index = this.index;
    const mask = this.mask;
    let i = h & mask;
    for (let v = index[i]!; v !== 0; i = (i + 1) & mask, v = index[i]!) {
      const slot = v - 1;
      if (this.hashes[slot] === h && this.keys[slot] === key) {
        // Updated in place: eviction is then oldest-first-seen rather than least-recently-seen,
        // which is cheaper (no re-insertion) and only matters once the cap is reached.
        const prev = this.times[slot]!;
        this.times[slot] = time;
        return time - prev < windowMs ? Seen.InWindow : Seen.BeforeWindow;
      }
    }
    if (this.keys.length < this.cap) {
      index[i] = this.keys.length + 1;
      this.keys.push(key);
      this.hashes.push(h);
      this.times.push(time);
      return Seen.Never;
    }
    const at = this.oldest;
    this.forget(at);
    this.keys[at] = key;
    this.hashes[at] = h;
    this.times[at] = time;
    // The removal may have moved entries back: look for the empty place again.
    i = h & mask;
    while (index[i] !== 0) i = (i + 1) & mask;
    index[i] = at + 1;
    this.oldest = at + 1 === this.cap ? 0 : at + 1;
    return Seen.Never;
  }

  private grow(): void {
    const size = Math.max(16, this.index.length * 2);
    const index = new Int32Array(size);
    const mask = size - 1;
    for (let slot = 0; slot < this.keys.length; slot++) {
      let i = this.hashes[slot]! & mask;
      while (index[i] !== 0) i = (i + 1) & mask;
      index[i] = slot + 1;
    }
    this.index = index;
    this.mask = mask;
  }

  /** Takes `slot` out of the index, moving later entries of its probe run back (no tombstones). */
  private forget(slot: number): void {
    const index = this.index;
    const mask = this.mask;
    let i = this.hashes[slot]! & mask;
    while (index[i] !== slot + 1) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const home = this.hashes[index[j]! - 1]! & mask;
      // The entry at j may fill the hole at i when its home is not in the run (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        index[i] = index[j]!;
        i = j;
      }
    }
    index[i] = 0;
  }

  /** Keys last seen at or after `since`. */
  countSince(since: number): number {
    const times = this.times;
    let n = 0;
    for (let i = 0; i < times.length; i++) if (times[i]! >= since) n++;
    return n;
  }

  get size(): number {
    return this.keys.length;
  }
}
