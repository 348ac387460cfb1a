import { TextError, WireError } from './errors.js';

/**
 * A domain name: immutable, always absolute, case preserved.
 *
 * Labels are binary strings (one char per byte, 0-255) so any byte sequence is a valid label
 * while comparisons and map keys stay cheap. `key` is the canonical lower-case presentation
 * form, unique per name, used for maps and equality.
 *
 * Stored as a chain: the leftmost label and the parent Name. Names parsed relative to an origin
 * share the origin's objects (and a zone's names share their parents), so a name costs one small
 * object and its first label; there is no per-name labels array. `labels` and `lowerLabels`
 * build arrays on demand; the methods here walk the chain instead. The only cache is `key`.
 */
export class Name {
  static readonly root: Name = new Name('', undefined, 0);
  static readonly MAX_WIRE = 255;
  static readonly MAX_LABEL = 63;

  private _key: string | undefined = undefined;

  private constructor(
    /** The leftmost label, raw ('' for the root). */
    private readonly label: string,
    /** The name one label up (undefined for the root). */
    private readonly up: Name | undefined,
    /** Number of labels (0 for the root). */
    readonly labelCount: number,
  ) {}

  /** Builds a name from raw labels (leftmost first), checking the RFC 1035 length limits. */
  static fromLabels(labels: readonly string[]): Name {
    return Name.root.prependChecked(labels, 0, labels.length);
  }

  /** Internal fast path: labels already validated (e.g. by the wire decoder). */
  static trusted(labels: readonly string[]): Name {
    let n = Name.root;
    for (let i = labels.length - 1; i >= 0; i--) n = new Name(labels[i]!, n, n.labelCount + 1);
    return n;
  }

  /** `labels[from..to)` put in front of this name, with the length limits checked. */
  private prependChecked(labels: readonly string[], from: number, to: number): Name {
    let len = this.wireLength;
    for (let i = from; i < to; i++) {
      const l = labels[i]!;
      if (l.length === 0) throw new RangeError('empty label');
      if (l.length > Name.MAX_LABEL) throw new RangeError(`label longer than ${Name.MAX_LABEL} octets`);
      len += l.length + 1;
    }
    if (len > Name.MAX_WIRE) throw new RangeError(`name longer than ${Name.MAX_WIRE} octets`);
    let n: Name = this;
    for (let i = to - 1; i >= from; i--) n = new Name(labels[i]!, n, n.labelCount + 1);
    return n;
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
    let base = Name.root;
    if (!lastAbsolute) {
      if (!origin) throw new TextError(`relative name "${text}" without an origin`);
      base = origin; // shared, not copied
    }
    // Suffix sharing: labels that end like the previous name parsed on the same base (same
    // case) build on that name's object. In a zone file `mail.www MX`, `ns.host NS` and the
    // next owner often repeat the owner or each other, so this saves a Name per label. Absolute
    // names are remembered apart from relative ones, so the targets of a zone's delegations
    // (`child NS ns1.provider.example.`) share their suffix across the owners parsed between.
    let own = labels.length;
    let on = base;
    const prev = base === Name.root ? recentAbsolute : recentRelative;
    if (prev.base === base && prev.labels.length > 0) {
      const p = prev.labels;
      let c = 0;
      while (c < own && c < p.length && labels[own - 1 - c] === p[p.length - 1 - c]) c++;
      if (c > 0) {
        on = prev.name.parent(p.length - c);
        own -= c;
      }
    }
    let name: Name;
    try {
      name = on.prependChecked(labels, 0, own);
    } catch (e) {
      throw new TextError(`${(e as Error).message} in name "${text}"`);
    }
    prev.base = base;
    prev.labels = labels;
    prev.name = name;
    return name;
  }

  /** Canonical lower-case presentation, unique per name (the map key). */
  get key(): string {
    if (this._key === undefined) this._key = this.buildKey();
    return this._key;
  }

  /**
   * `key`, not kept when it was not already: for a passing use of a name that may live long,
   * such as the wire writer's compression map while a zone transfer walks a million owner names,
   * which would otherwise leave every owner's key string in the zone for as long as it is served
   * (50 MB more resident after the first AXFR of a 1,000,000-record zone).
   */
  get passingKey(): string {
    if (this._key !== undefined) return this._key;
    // The parent's key is kept (other names share the parent): one concatenation, no join.
    const up = this.up;
    if (up === undefined) return '.';
    return escapeLabel(asciiLower(this.label)) + (up.labelCount === 0 ? '.' : '.' + up.key);
  }

  private buildKey(): string {
    if (this.labelCount === 0) return '.';
    // One join: a flat string, not a chain of concatenations (a zone's map holds these).
    const parts: string[] = new Array(this.labelCount + 1);
    let i = 0;
    for (let n: Name = this; n.up; n = n.up) parts[i++] = escapeLabel(asciiLower(n.label));
    parts[i] = '';
    return parts.join('.');
  }

  /** Raw labels, leftmost first (a new array each time). */
  get labels(): readonly string[] {
    const out: string[] = new Array(this.labelCount);
    let i = 0;
    for (let n: Name = this; n.up; n = n.up) out[i++] = n.label;
    return out;
  }

  /** Labels with ASCII letters lower-cased (RFC 4343: case folding is ASCII only); a new array each time. */
  get lowerLabels(): readonly string[] {
    const out: string[] = new Array(this.labelCount);
    let i = 0;
    for (let n: Name = this; n.up; n = n.up) out[i++] = asciiLower(n.label);
    return out;
  }

  /** The leftmost label, raw ('' for the root). */
  get firstLabel(): string {
    return this.label;
  }

  /** The leftmost label lower-cased ('' for the root). */
  get firstLowerLabel(): string {
    return asciiLower(this.label);
  }

  get isRoot(): boolean {
    return this.labelCount === 0;
  }

  /** Length of the uncompressed wire form. */
  get wireLength(): number {
    let len = 1;
    for (let n: Name = this; n.up; n = n.up) len += n.label.length + 1;
    return len;
  }

  /** Absolute presentation form with the trailing dot, case preserved. */
  toString(): string {
    if (this.labelCount === 0) return '.';
    // A lower-case name prints as its key.
    let lower = true;
    for (let n: Name = this; n.up && lower; n = n.up) lower = asciiLower(n.label) === n.label;
    if (lower) return this.key;
    return this.text(this.labelCount) + '.';
  }

  /** The first `count` labels in presentation form, joined by dots. */
  private text(count: number): string {
    const parts: string[] = new Array(count);
    let n: Name = this;
    for (let i = 0; i < count; i++, n = n.up!) parts[i] = escapeLabel(n.label);
    return parts.join('.');
  }

  /** Presentation relative to `origin` when below it (`@` when equal), else absolute. */
  toText(origin?: Name): string {
    if (!origin || !this.isSubdomainOf(origin)) return this.toString();
    const keep = this.labelCount - origin.labelCount;
    if (keep === 0) return '@';
    return this.text(keep);
  }

  equals(other: Name): boolean {
    if (this === other) return true;
    if (this.labelCount !== other.labelCount) return false;
    return sameSuffix(this, other);
  }

  /** True when this name is `other` or below it. */
  isSubdomainOf(other: Name): boolean {
    const d = this.labelCount - other.labelCount;
    if (d < 0) return false;
    return sameSuffix(this.parent(d), other);
  }

  /** The name with the `n` leftmost labels removed (shared, not copied). */
  parent(n = 1): Name {
    let p: Name = this;
    for (let i = 0; i < n && p.up; i++) p = p.up;
    return p;
  }

  /** Last `n` labels (the ancestor with n labels). */
  suffix(n: number): Name {
    return this.parent(this.labelCount - n);
  }

  /** Prepends one or more raw labels. */
  prepend(...labels: string[]): Name {
    return this.prependChecked(labels, 0, labels.length);
  }

  /** Replaces the suffix `from` (which this name must be under) by `to`: DNAME substitution. */
  replaceSuffix(from: Name, to: Name): Name {
    if (!this.isSubdomainOf(from)) throw new RangeError(`${this} is not below ${from}`);
    const keep = this.labels.slice(0, this.labelCount - from.labelCount);
    return to.prependChecked(keep, 0, keep.length);
  }

  /** The same name with ASCII letters lower-cased (DNSSEC canonical form). */
  toLowerCase(): Name {
    if (!this.up) return this;
    const up = this.up.toLowerCase();
    const l = asciiLower(this.label);
    return up === this.up && l === this.label ? this : new Name(l, up, this.labelCount);
  }

  /** Uncompressed wire form. */
  toWire(canonical = false): Uint8Array {
    const out = new Uint8Array(this.wireLength);
    let p = 0;
    for (let n: Name = this; n.up; n = n.up) {
      const l = canonical ? asciiLower(n.label) : n.label;
      out[p++] = l.length;
      for (let i = 0; i < l.length; i++) out[p++] = l.charCodeAt(i);
    }
    out[p] = 0;
    return out;
  }

  /** Canonical DNS name order (RFC 4034 §6.1): negative when this sorts before `other`. */
  compare(other: Name): number {
    let a: Name = this;
    let b: Name = other;
    // Align the depths, then walk up together: the last difference seen is the rightmost one,
    // which decides; a shared suffix object ends the walk early.
    const extra = a.labelCount - b.labelCount;
    if (extra > 0) a = a.parent(extra);
    else if (extra < 0) b = b.parent(-extra);
    let diff = 0;
    while (a !== b && a.up) {
      const c = compareLower(a.label, b.label);
      if (c !== 0) diff = c;
      a = a.up;
      b = b.up!;
    }
    if (diff !== 0) return diff;
    return extra < 0 ? -1 : extra > 0 ? 1 : 0;
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

/**
 * The last name Name.parse made relative to an origin, and the last absolute one: its base
 * (origin or root) and its labels above the base; refilled in place, one object less per name
 * parsed.
 */
interface RecentName {
  base: Name | undefined;
  labels: readonly string[];
  name: Name;
}
const recentRelative: RecentName = { base: undefined, labels: [], name: Name.root };
const recentAbsolute: RecentName = { base: undefined, labels: [], name: Name.root };

/** Set by plainLabels/escapedLabels: the text ended with an unescaped dot. */
let lastAbsolute = false;

/** V8 makes a substring this long a slice of the string it was cut from (SlicedString::kMinLength). */
export const SLICE_MIN = 13;

/**
 * `s` as a string of its own. A label cut from a zone file's text, when 13 characters or longer,
 * is a slice that keeps the whole 64 KiB chunk it came from alive for as long as the zone is
 * served: a zone of long names would hold its file's text twice.
 */
function detached(s: string): string {
  if (s.length < SLICE_MIN) return s;
  const codes = new Array<number>(s.length);
  for (let i = 0; i < s.length; i++) codes[i] = s.charCodeAt(i);
  return String.fromCharCode.apply(null, codes);
}

/** Labels of presentation text without backslashes. */
function plainLabels(text: string): string[] {
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) dots++;
    // Internationalised names must arrive as A-labels (punycode); raw UTF-16 is refused.
    else if (c > 0xff) throw new TextError(`non-ASCII character in name "${text}" (use the xn-- form)`);
  }
  lastAbsolute = text.charCodeAt(text.length - 1) === 0x2e;
  // Most owners of a zone file are one label below the origin: no split for those.
  if (dots === 0) return [detached(text)];
  const labels = (lastAbsolute ? text.slice(0, -1) : text).split('.');
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l.length === 0) throw new TextError(`empty label in name "${text}"`);
    if (l.length >= SLICE_MIN) labels[i] = detached(l);
  }
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

/** Two names of equal depth are the same name (ASCII case ignored); shared suffixes end early. */
function sameSuffix(a: Name, b: Name): boolean {
  for (;;) {
    if (a === b) return true;
    if (a.isRoot) return b.isRoot;
    if (compareLower(a.firstLabel, b.firstLabel) !== 0) return false;
    a = a.parent();
    b = b.parent();
  }
}

/** Compares two labels as lower-case octet strings (RFC 4034 §6.1): shorter prefix first. */
function compareLower(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x >= 0x41 && x <= 0x5a) x += 32;
    if (y >= 0x41 && y <= 0x5a) y += 32;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length < 0 ? -1 : a.length > b.length ? 1 : 0;
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
