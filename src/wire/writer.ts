import { Name } from './name.js';

const EMPTY = new Uint8Array(0);

/** Raised when a message would exceed the writer's size limit; the caller rolls back. */
export class Overflow extends Error {
  constructor() {
    // Control flow, not a failure: no stack trace (capturing one is costly on the answer path).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super('message too large');
    Error.stackTraceLimit = limit;
  }
}

/**
 * One buffer of the largest message size, lent to one writer at a time (`WireWriter.lend`): a
 * message encoded in it allocates only its result. A fresh 4 KiB buffer per message (zeroed,
 * outside the heap, released later by the collector) was most of the cost of encoding a small
 * message. Undefined while lent: a writer made meanwhile (an encode inside an encode) gets its own.
 */
const SPARE_SIZE = 65536;
let spare: Uint8Array | undefined = new Uint8Array(SPARE_SIZE);

/**
 * Growable output buffer with RFC 1035 name compression.
 *
 * `limit` bounds the size: a write past it throws `Overflow` so the encoder can roll back to a
 * mark (RRset boundary) and set TC. Compression entries added after a mark are forgotten on
 * rollback so no pointer ever refers to bytes that were cut.
 */
export class WireWriter {
  buf: Uint8Array;
  pos = 0;
  private readonly names = new Map<string, number>();
  private readonly added: string[] = [];
  /** True while `buf` is the lent spare buffer (see `lend`). */
  private lent = false;

  /**
   * A writer over the spare buffer when it is free (else over a new one), for a caller that
   * copies what it wrote out (`finish`, or its own copy) and then calls `giveBack`. Nothing may
   * keep `buf` after that.
   */
  static lend(limit: number, compression = true): WireWriter {
    const w = new WireWriter(limit, 0, compression);
    if (spare !== undefined && limit <= SPARE_SIZE) {
      w.buf = spare;
      w.lent = true;
      spare = undefined;
    } else {
      w.buf = new Uint8Array(Math.min(limit, 4096));
    }
    return w;
  }

  /** Returns the lent buffer (a no-op for a writer that was not lent one). */
  giveBack(): void {
    if (!this.lent) return;
    this.lent = false;
    spare = this.buf;
    this.buf = EMPTY;
    this.pos = 0;
  }

  constructor(
    readonly limit = 65535,
    initial = 512,
    /** False: never compress, whatever `name()` is asked (standalone RDATA, `compress: false`). */
    readonly compression = true,
  ) {
    this.buf = new Uint8Array(Math.min(initial, limit));
  }

  private ensure(n: number): void {
    const need = this.pos + n;
    if (need > this.limit) throw new Overflow();
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.min(this.limit, Math.max(need, this.buf.length * 2)));
      grown.set(this.buf.subarray(0, this.pos));
      this.buf = grown;
    }
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf[this.pos++] = (v >>> 24) & 0xff;
    this.buf[this.pos++] = (v >>> 16) & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /**
   * Writes a name. With `compress`, known suffixes become pointers and new suffixes are
   * remembered. `canonical` lower-cases (DNSSEC canonical form) and never compresses.
   */
  name(name: Name, compress = true, canonical = false): void {
    // Walks the name's chain of parents: no label arrays. A suffix's key (canonical text,
    // unique per name) is its compression map key. The name's own key is not kept in it (a zone
    // transfer would leave one in every owner name of the zone); its ancestors' are, since
    // other names share them.
    if (!compress || canonical || !this.compression) {
      for (let n = name; !n.isRoot; n = n.parent()) this.label(canonical ? n.firstLowerLabel : n.firstLabel);
      this.u8(0);
      return;
    }
    for (let n = name; !n.isRoot; n = n.parent()) {
      const key = n === name ? n.passingKey : n.key;
      const at = this.names.get(key);
      if (at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (this.pos < 0x4000) {
        this.names.set(key, this.pos);
        this.added.push(key);
      }
      this.label(n.firstLabel);
    }
    this.u8(0);
  }

  private label(l: string): void {
    this.ensure(l.length + 1);
    this.buf[this.pos++] = l.length;
    for (let i = 0; i < l.length; i++) this.buf[this.pos++] = l.charCodeAt(i);
  }

  /** Current position, to roll back to with `rollback`. */
  mark(): number {
    return this.pos;
  }

  rollback(mark: number): void {
    this.pos = mark;
    while (this.added.length > 0) {
      const key = this.added[this.added.length - 1]!;
      const at = this.names.get(key);
      if (at === undefined || at < mark) break;
      this.names.delete(key);
      this.added.pop();
    }
  }

  /** Reserves a u16 (e.g. RDLENGTH) to fill in later with `patch16`. */
  reserve16(): number {
    this.u16(0);
    return this.pos - 2;
  }

  patch16(at: number, v: number): void {
    this.buf[at] = (v >>> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

