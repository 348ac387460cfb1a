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

/**
 * Remembers when keys (subdomains, clients) were last seen, up to a cap (the first-seen key is
 * forgotten first). Distinct counts in a window are "keys not seen inside the window", counted as they arrive.
 *
 * The keys live in a ring of slots (times in a parallel array) with a map from key to slot, so
 * forgetting the oldest key is a slot overwrite. Finding the oldest entry of a Map instead
 * (`keys().next()` after many deletes) walks over every deleted entry still in its table: with
 * a stream of new subdomains that was a sixth of the server's busy time at 50k queries a second.
 * The slot arrays grow with use, so a pair seen for a few names holds a few slots, not `cap`.
 */
export class RecentKeys {
  /** key → its slot in `keys`/`times`. */
  private readonly slots = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly times: number[] = [];
  /** Once every slot is used: the slot of the first-seen key, overwritten next. */
  private oldest = 0;

  constructor(private readonly cap: number) {}

  see(key: string, time: number, windowMs: number): Seen {
    const slot = this.slots.get(key);
    if (slot !== undefined) {
      // Updated in place: eviction is then oldest-first-seen rather than least-recently-seen,
      // which is cheaper (no re-insertion) and only matters once the cap is reached.
      const prev = this.times[slot]!;
      this.times[slot] = time;
      return time - prev < windowMs ? Seen.InWindow : Seen.BeforeWindow;
    }
    if (this.keys.length < this.cap) {
      this.slots.set(key, this.keys.length);
      this.keys.push(key);
      this.times.push(time);
    } else {
      const at = this.oldest;
      this.slots.delete(this.keys[at]!);
      this.keys[at] = key;
      this.times[at] = time;
      this.slots.set(key, at);
      this.oldest = at + 1 === this.cap ? 0 : at + 1;
    }
    return Seen.Never;
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
