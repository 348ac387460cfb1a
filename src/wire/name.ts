import { TextError, WireError } from './errors.js';

/**
 * A domain name: immutable, always absolute, case preserved.
 *
 * Labels are kept as binary strings (one char per byte, 0-255) so any byte sequence is a valid
 * label while comparisons and map keys stay cheap. `key` is the canonical lower-case presentation
 * form, unique per name, used for maps and equality.
 */
export class Name {
  static readonly root = new Name([]);
  static readonly MAX_WIRE = 255;
  static readonly MAX_LABEL = 63;

  // Two caches only: the key (which a zone's map holds anyway) and the lower-case labels, which
  // are the `labels` array itself when the name has no upper-case letter (the usual case), so
  // most names cost one object, one array and their label strings. The presentation text is
  // not cached: it is the key when the name is lower case, and built on demand otherwise.
  private _key: string | undefined;
  private _lower: readonly string[] | undefined;

  private constructor(readonly labels: readonly string[]) {}

  /** Builds from labels that pass the RFC 1035 length limits, without copying the array. */
  private static checked(labels: string[]): Name {
    if (labels.length === 0) return Name.root;
    let len = 1;
    for (const l of labels) {
      if (l.length === 0) throw new RangeError('empty label');
      if (l.length > Name.MAX_LABEL) throw new RangeError(`label longer than ${Name.MAX_LABEL} octets`);
      len += l.length + 1;
    }
    if (len > Name.MAX_WIRE) throw new RangeError(`name longer than ${Name.MAX_WIRE} octets`);
    return new Name(labels);
  }

  /** Builds a name from raw labels (leftmost first), checking the RFC 1035 length limits. */
  static fromLabels(labels: readonly string[]): Name {
    return Name.checked([...labels]);
  }

  /** Internal fast path: labels already validated (e.g. by the wire decoder). */
  static trusted(labels: string[]): Name {
    return labels.length === 0 ? Name.root : new Name(labels);
  }

  /**
   * Parses presentation form. `@` is the origin; a name without a trailing dot is relative to
   * `origin` (an error if there is none). Escapes: `\X` for a literal character and `\DDD`.
   */
  static parse(text: string, origin?: Name): Name {
    if (text === '@') {
      if (!origin) throw new TextError('"@" used without an origin');
      return origin;
    }
    if (text === '.') return Name.root;
    if (text.length === 0) throw new TextError('empty name');
    // Most names have no escapes: split them instead of building labels a character at a time.
    const labels: string[] = text.indexOf('\\') < 0 ? plainLabels(text) : escapedLabels(text);
    const absolute = lastAbsolute;
    // Exact-size arrays (concat, slice): an array grown by push keeps 17 or more slots, which
    // across a million names is more than the labels themselves. The origin's label strings
    // are shared, not copied.
    let all: string[];
    if (!absolute) {
      if (!origin) throw new TextError(`relative name "${text}" without an origin`);
      all = labels.concat(origin.labels);
    } else all = labels.slice();
    try {
      return Name.checked(all);
    } catch (e) {
      throw new TextError(`${(e as Error).message} in name "${text}"`);
    }
  }

  /** Canonical lower-case presentation, unique per name (the map key). */
  get key(): string {
    if (this._key === undefined) this._key = this.labels.length === 0 ? '.' : joinLabels(this.lowerLabels) + '.';
    return this._key;
  }

  /** Labels with ASCII letters lower-cased (RFC 4343: case folding is ASCII only). */
  get lowerLabels(): readonly string[] {
    if (this._lower === undefined) {
      const labels = this.labels;
      let lower: string[] | undefined;
      for (let i = 0; i < labels.length; i++) {
        const l = asciiLower(labels[i]!);
        if (l !== labels[i] && lower === undefined) lower = labels.slice(0, i);
        lower?.push(l);
      }
      this._lower = lower ?? labels;
    }
    return this._lower;
  }

  get labelCount(): number {
    return this.labels.length;
  }

  get isRoot(): boolean {
    return this.labels.length === 0;
  }

  /** Length of the uncompressed wire form. */
  get wireLength(): number {
    let len = 1;
    for (const l of this.labels) len += l.length + 1;
    return len;
  }

  /** Absolute presentation form with the trailing dot, case preserved. */
  toString(): string {
    if (this.labels.length === 0) return '.';
    // A lower-case name prints as its key.
    if (this.lowerLabels === this.labels) return this.key;
    return joinLabels(this.labels) + '.';
  }

  /** Presentation relative to `origin` when below it (`@` when equal), else absolute. */
  toText(origin?: Name): string {
    if (!origin || !this.isSubdomainOf(origin)) return this.toString();
    const keep = this.labels.length - origin.labels.length;
    if (keep === 0) return '@';
    return this.labels.slice(0, keep).map(escapeLabel).join('.');
  }

  equals(other: Name): boolean {
    if (this === other) return true;
    if (this.labels.length !== other.labels.length) return false;
    return this.key === other.key;
  }

  /** True when this name is `other` or below it. */
  isSubdomainOf(other: Name): boolean {
    const d = this.labels.length - other.labels.length;
    if (d < 0) return false;
    const a = this.lowerLabels;
    const b = other.lowerLabels;
    for (let i = b.length - 1; i >= 0; i--) if (a[i + d] !== b[i]) return false;
    return true;
  }

  /** The name with the `n` leftmost labels removed. */
  parent(n = 1): Name {
    if (n <= 0) return this;
    if (n >= this.labels.length) return Name.root;
    const up = new Name(this.labels.slice(n));
    if (this._lower === this.labels) up._lower = up.labels;
    return up;
  }

  /** Last `n` labels (the ancestor with n labels). */
  suffix(n: number): Name {
    return this.parent(this.labels.length - n);
  }

  /** Prepends one or more raw labels. */
  prepend(...labels: string[]): Name {
    return Name.fromLabels([...labels, ...this.labels]);
  }

  /** Replaces the suffix `from` (which this name must be under) by `to`: DNAME substitution. */
  replaceSuffix(from: Name, to: Name): Name {
    if (!this.isSubdomainOf(from)) throw new RangeError(`${this} is not below ${from}`);
    const keep = this.labels.slice(0, this.labels.length - from.labels.length);
    return Name.fromLabels([...keep, ...to.labels]);
  }

  /** The same name with ASCII letters lower-cased (DNSSEC canonical form). */
  toLowerCase(): Name {
    const lower = this.lowerLabels;
    for (let i = 0; i < lower.length; i++) if (lower[i] !== this.labels[i]) return new Name(lower as string[]);
    return this;
  }

  /** Uncompressed wire form. */
  toWire(canonical = false): Uint8Array {
    const out = new Uint8Array(this.wireLength);
    let p = 0;
    for (const l of canonical ? this.lowerLabels : this.labels) {
      out[p++] = l.length;
      for (let i = 0; i < l.length; i++) out[p++] = l.charCodeAt(i);
    }
    out[p] = 0;
    return out;
  }

  /** Canonical DNS name order (RFC 4034 §6.1): negative when this sorts before `other`. */
  compare(other: Name): number {
    const a = this.lowerLabels;
    const b = other.lowerLabels;
    let i = a.length - 1;
    let j = b.length - 1;
    for (; i >= 0 && j >= 0; i--, j--) {
      if (a[i] !== b[j]) return a[i]! < b[j]! ? -1 : 1;
    }
    return i < 0 ? (j < 0 ? 0 : -1) : 1;
  }

  /** Reads a possibly compressed name (used by WireReader). */
  static fromWire(buf: Uint8Array, start: number, end: number): { name: Name; next: number } {
    const labels: string[] = [];
    let pos = start;
    let next = -1;
    let wireLen = 1;
    // Every pointer must go strictly backwards from the label that holds it: no loops, no
    // forward references (RFC 1035 §4.1.4 only ever points at earlier data).
    let lowest = start;
    const limit = end;
    for (;;) {
      if (pos >= (next < 0 ? limit : buf.length)) throw new WireError('name runs past the end', pos);
      const len = buf[pos]!;
      if (len === 0) {
        if (next < 0) next = pos + 1;
        break;
      }
      const kind = len & 0xc0;
      if (kind === 0xc0) {
        if (pos + 1 >= (next < 0 ? limit : buf.length)) throw new WireError('truncated compression pointer', pos);
        const target = ((len & 0x3f) << 8) | buf[pos + 1]!;
        if (target >= lowest) throw new WireError('compression pointer does not point backwards', pos);
        if (next < 0) next = pos + 2;
        lowest = target;
        pos = target;
        continue;
      }
      if (kind !== 0) throw new WireError(`unsupported label type 0x${kind.toString(16)}`, pos);
      const labelEnd = pos + 1 + len;
      if (labelEnd > (next < 0 ? limit : buf.length)) throw new WireError('label runs past the end', pos);
      wireLen += len + 1;
      if (wireLen > Name.MAX_WIRE) throw new WireError('name longer than 255 octets', pos);
      labels.push(latin1(buf, pos + 1, labelEnd));
      pos = labelEnd;
    }
    return { name: Name.trusted(labels), next };
  }
}

/** Set by plainLabels/escapedLabels: the text ended with an unescaped dot. */
let lastAbsolute = false;

/** Labels of presentation text without backslashes. */
function plainLabels(text: string): string[] {
  for (let i = 0; i < text.length; i++) {
    // Internationalised names must arrive as A-labels (punycode); raw UTF-16 is refused.
    if (text.charCodeAt(i) > 0xff) throw new TextError(`non-ASCII character in name "${text}" (use the xn-- form)`);
  }
  lastAbsolute = text.charCodeAt(text.length - 1) === 0x2e;
  const labels = (lastAbsolute ? text.slice(0, -1) : text).split('.');
  for (const l of labels) if (l.length === 0) throw new TextError(`empty label in name "${text}"`);
  return labels;
}

/** Labels of presentation text with `\X` and `\DDD` escapes (RFC 1035 §5.1). */
function escapedLabels(text: string): string[] {
  const labels: string[] = [];
  let cur = '';
  let absolute = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) {
      if (i + 1 >= n) throw new TextError(`dangling escape in name "${text}"`);
      const d0 = text.charCodeAt(i + 1);
      if (d0 >= 0x30 && d0 <= 0x39) {
        const ddd = text.slice(i + 1, i + 4);
        if (!/^[0-9]{3}$/.test(ddd)) throw new TextError(`bad \\DDD escape in name "${text}"`);
        const v = Number(ddd);
        if (v > 255) throw new TextError(`\\DDD escape above 255 in name "${text}"`);
        cur += String.fromCharCode(v);
        i += 4;
      } else {
        if (d0 > 0xff) throw new TextError(`non-Latin-1 character in name "${text}"`);
        cur += text[i + 1];
        i += 2;
      }
      continue;
    }
    if (c === 0x2e /* . */) {
      if (cur.length === 0) throw new TextError(`empty label in name "${text}"`);
      labels.push(cur);
      cur = '';
      if (i === n - 1) absolute = true;
      i++;
      continue;
    }
    if (c > 0xff) throw new TextError(`non-ASCII character in name "${text}" (use the xn-- form)`);
    cur += text[i];
    i++;
  }
  if (!absolute) {
    if (cur.length === 0) throw new TextError(`empty label in name "${text}"`);
    labels.push(cur);
  }
  lastAbsolute = absolute;
  return labels;
}

/** Labels in presentation form joined by dots (no trailing dot). */
function joinLabels(labels: readonly string[]): string {
  let out = escapeLabel(labels[0]!);
  for (let i = 1; i < labels.length; i++) out += '.' + escapeLabel(labels[i]!);
  return out;
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

function asciiLower(label: string): string {
  // Fast check first: most labels are already lower case.
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) {
      let out = label.slice(0, i);
      for (let j = i; j < label.length; j++) {
        const d = label.charCodeAt(j);
        out += d >= 0x41 && d <= 0x5a ? String.fromCharCode(d + 32) : label[j];
      }
      return out;
    }
  }
  return label;
}

/** Presentation form of one raw label, with RFC 1035 §5.1 escapes. */
export function escapeLabel(label: string): string {
  // Most labels need no escape: return them as they are.
  let i0 = 0;
  for (; i0 < label.length; i0++) if (needsEscape(label.charCodeAt(i0))) break;
  if (i0 === label.length) return label;
  let out = '';
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) out += '\\' + String(c).padStart(3, '0');
    else if (c === 0x2e || c === 0x5c || c === 0x22 || c === 0x28 || c === 0x29 || c === 0x3b || c === 0x40 || c === 0x24) out += '\\' + label[i];
    else out += label[i];
  }
  return out;
}

function needsEscape(c: number): boolean {
  return c <= 0x20 || c >= 0x7f || c === 0x2e || c === 0x5c || c === 0x22 || c === 0x28 || c === 0x29 || c === 0x3b || c === 0x40 || c === 0x24;
}
