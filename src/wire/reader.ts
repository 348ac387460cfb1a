import { WireError } from './errors.js';
import { Name } from './name.js';

/**
 * Bounded cursor over a DNS message. Reads never go past `end`; name decompression may follow
 * pointers anywhere earlier in the whole message buffer.
 */
export class WireReader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    pos = 0,
    public end: number = buf.length,
  ) {
    this.pos = pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.end) throw new WireError(`truncated ${what}`, this.pos);
  }

  u8(): number {
    this.need(1, 'u8');
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2, 'u16');
    const b = this.buf;
    const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4, 'u32');
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  /** A copy of the next `n` bytes. */
  bytes(n: number): Uint8Array {
    this.need(n, `${n}-byte field`);
    // Uint8Array's slice copies even when buf is a Buffer (whose own slice is a view).
    const out = Uint8Array.prototype.slice.call(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Everything up to `end`. */
  rest(): Uint8Array {
    return this.bytes(this.end - this.pos);
  }

  name(): Name {
    const { name, next } = Name.fromWire(this.buf, this.pos, this.end);
    this.pos = next;
    return name;
  }

  fail(message: string, at = this.pos): never {
    throw new WireError(message, at);
  }
}
