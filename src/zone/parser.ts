import { createReadStream, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  classFromString, classToString, isMetaType, Name, parseTtlText, rdataFromText, RRClass, RRType, TextError,
  Tokens, typeFromString, type ResourceRecord, type Token,
} from '../wire/index.js';
import { Lexer, ZoneError, type Entry, type ZoneWarning } from './lexer.js';

export { ZoneError, type ZoneWarning, warningText } from './lexer.js';

export interface ZoneParseOptions {
  /** Initial origin (`@` and relative names); usually the zone name. */
  origin: Name | string;
  /** The zone's class; records of another class are errors. Default IN. */
  defaultClass?: number;
  /**
   * TTL used when a record has none and neither `$TTL` nor an earlier record gives one.
   * Absent (the BIND rule): the SOA takes its minimum with a warning, other records are errors.
   */
  defaultTtl?: number;
  /** File name used in messages (parseZoneText); readZoneFile uses the path. */
  file?: string;
  /** Warnings are pushed here (TTL defaults, TTLs above 2^31-1, ...). */
  warnings?: ZoneWarning[];
  /**
   * Error-collecting mode: each bad record is reported here and skipped, and parsing goes on
   * (fatal errors are reported and end the parse). Without it the first error is thrown.
   */
  onError?: (e: ZoneError) => void;
  /**
   * Remember each record's source position: `true` for `recordPosition(rr)` (kept as long as
   * the records live), or a `RecordPositions` table (compact, freed with the table).
   */
  positions?: boolean | RecordPositions;
  /** Upper bound on records one `$GENERATE` may produce. Default 1,000,000. */
  generateLimit?: number;
  /** Upper bound on `$INCLUDE` nesting. Default 20. */
  includeDepth?: number;
}

export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

// Keyed by the record's data object: a copy of a record that keeps its data (a zone tree
// unifying TTLs or owner names, `{ ...rr, ttl }`) still finds where it came from.
const positions = new WeakMap<object, SourcePosition>();

function positionKey(rr: ResourceRecord): object {
  const d = rr.data as unknown;
  return typeof d === 'object' && d !== null ? d : rr;
}

/**
 * Where a record came from, when it was parsed with `positions: true`; also for a copy of it
 * that shares its `data`.
 */
export function recordPosition(rr: ResourceRecord): SourcePosition | undefined {
  return positions.get(positionKey(rr)) ?? positions.get(rr);
}

/**
 * Source positions of parsed records, compact: a map from each record's data object to a slot
 * in flat arrays (no object per record). Pass one as the `positions` option, read it with
 * `get` (a bound function, so `{ position: table.get }` works), and drop it when the findings
 * are printed: a server keeps its records, but needs their positions only while checking.
 */
export class RecordPositions {
  private readonly slots = new Map<object, number>();
  private readonly files: string[] = [];
  private readonly fileIds = new Map<string, number>();
  private lines = new Uint32Array(1024);
  private cols = new Uint32Array(1024);
  private fileOf = new Uint32Array(1024);

  get size(): number {
    return this.slots.size;
  }

  set(rr: ResourceRecord, file: string, line: number, col: number): void {
    let f = this.fileIds.get(file);
    if (f === undefined) {
      f = this.files.length;
      this.files.push(file);
      this.fileIds.set(file, f);
    }
    const i = this.slots.size;
    if (i === this.lines.length) {
      const grow = (a: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> => {
        const b = new Uint32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.lines = grow(this.lines);
      this.cols = grow(this.cols);
      this.fileOf = grow(this.fileOf);
    }
    this.slots.set(positionKey(rr), i);
    this.lines[i] = line;
    this.cols[i] = col;
    this.fileOf[i] = f;
  }

  /** Where `rr` (or a copy sharing its data) was parsed from. */
  readonly get = (rr: ResourceRecord): SourcePosition | undefined => {
    const i = this.slots.get(positionKey(rr));
    if (i === undefined) return undefined;
    return { file: this.files[this.fileOf[i]!]!, line: this.lines[i]!, col: this.cols[i]! };
  };
}

type Step =
  | { kind: 'none' }
  | { kind: 'record'; rr: ResourceRecord }
  | { kind: 'generate'; records: Iterable<ResourceRecord> }
  | { kind: 'include'; path: string; origin: Name; tok: Token };

/**
 * Parser state shared by the streaming and the in-memory drivers: origin, `$TTL`, previous
 * owner and TTL. One `entry()` call per lexer entry; includes are opened by the driver.
 */
class ParserCore {
  origin: Name;
  owner: Name | undefined;
  dollarTtl: number | undefined;
  lastTtl: number | undefined;
  readonly cls: number;
  readonly warnings: ZoneWarning[] | undefined;
  readonly track: boolean;
  readonly table: RecordPositions | undefined;
  /** The last owner parsed, its text and origin: a repeated owner shares its Name. */
  private lastOwner: Name | undefined;
  private lastOwnerText: string | undefined;
  private lastOwnerOrigin: Name | undefined;
  readonly generateLimit: number;

  constructor(readonly opts: ZoneParseOptions) {
    this.origin = typeof opts.origin === 'string' ? Name.parse(opts.origin.endsWith('.') ? opts.origin : opts.origin + '.') : opts.origin;
    this.cls = opts.defaultClass ?? RRClass.IN;
    this.warnings = opts.warnings;
    this.table = opts.positions instanceof RecordPositions ? opts.positions : undefined;
    this.track = opts.positions === true;
    this.generateLimit = opts.generateLimit ?? 1_000_000;
  }

  warn(file: string, line: number, col: number, message: string): void {
    this.warnings?.push({ file, line, col, message });
  }

  entry(e: Entry, file: string): Step {
    if (e.error) throw e.error;
    const first = e.tokens[0]!;
    if (!e.blankOwner && !first.quoted && first.text.charCodeAt(0) === 0x24 /* $ */) return this.directive(e, file);
    return this.record(e, file);
  }

  private err(file: string, tok: { line: number; col: number }, reason: string, fatal = false, rrtype?: number): ZoneError {
    return new ZoneError(reason, file, tok.line, tok.col, fatal, rrtype);
  }

  private name(file: string, tok: Token, what: string, fatal = false): Name {
    if (tok.quoted) throw this.err(file, tok, `${what} may not be quoted`, fatal);
    try {
      return Name.parse(tok.text, this.origin);
    } catch (x) {
      const reason = x instanceof TextError ? x.reason : (x as Error).message;
      throw this.err(file, tok, `bad ${what} "${tok.text}": ${reason}`, fatal);
    }
  }

  private directive(e: Entry, file: string): Step {
    const t = e.tokens;
    const d = t[0]!;
    const word = d.text.toUpperCase();
    const end = (tok: Token | undefined): Token => tok ?? { text: '', quoted: false, line: d.line, col: d.col + d.text.length };
    switch (word) {
      case '$ORIGIN': {
        if (t.length < 2) throw this.err(file, end(undefined), 'expected a domain name after $ORIGIN', true);
        if (t.length > 2) throw this.err(file, t[2]!, `unexpected "${t[2]!.text}" after the $ORIGIN name`, true);
        // A relative $ORIGIN is taken relative to the current one, as BIND does.
        this.origin = this.name(file, t[1]!, '$ORIGIN name', true);
        return { kind: 'none' };
      }
      case '$TTL': {
        if (t.length < 2) throw this.err(file, end(undefined), 'expected a TTL after $TTL', true);
        if (t.length > 2) throw this.err(file, t[2]!, `unexpected "${t[2]!.text}" after the $TTL value`, true);
        this.dollarTtl = this.ttl(file, t[1]!, true);
        return { kind: 'none' };
      }
      case '$INCLUDE': {
        if (t.length < 2) throw this.err(file, end(undefined), 'expected a file name after $INCLUDE', true);
        if (t.length > 3) throw this.err(file, t[3]!, `unexpected "${t[3]!.text}" after the $INCLUDE origin`, true);
        const path = t[1]!.text.replace(/\\([0-9]{3}|.)/g, (_m, x: string) => (x.length === 3 ? String.fromCharCode(Number(x)) : x));
        const origin = t.length === 3 ? this.name(file, t[2]!, '$INCLUDE origin', true) : this.origin;
        return { kind: 'include', path: resolve(file ? dirname(file) : '.', path), origin, tok: t[1]! };
      }
      case '$GENERATE':
        return { kind: 'generate', records: this.generate(e, file) };
      default:
        throw this.err(file, d, `unknown directive "${d.text}": expected $ORIGIN, $TTL, $INCLUDE or $GENERATE`);
    }
  }

  private ttl(file: string, tok: Token, fatal = false): number {
    const v = tok.quoted ? undefined : parseTtlText(tok.text);
    if (v === undefined) {
      throw this.err(file, tok, `bad TTL "${tok.text}": expected seconds (0 to 4294967295) or units like 1h30m`, fatal);
    }
    if (v > 0x7fffffff) this.warn(file, tok.line, tok.col, `TTL ${v} is above 2147483647 (RFC 2181 §8)`);
    return v;
  }

  /** The step `record` returns, one object refilled per record: the drivers read it at once. */
  private readonly recordStep: { kind: 'record'; rr: ResourceRecord } = { kind: 'record', rr: undefined as unknown as ResourceRecord };

  /** What `head` read: the TTL (undefined when omitted), class and type. */
  private headTtl: number | undefined = undefined;
  private headCls = 0;
  private headType = 0;

  /**
   * Splits `[TTL] [CLASS] TYPE` (either order) starting at token `i` into `headTtl`, `headCls`
   * and `headType` (fields, not a new object per record); returns the index after the type.
   */
  private head(t: Token[], i: number, file: string): number {
    let ttl: number | undefined;
    let cls: number | undefined;
    for (;;) {
      const tok = t[i];
      if (!tok) {
        const last = t[t.length - 1]!;
        throw this.err(file, { line: last.line, col: last.col + last.text.length }, 'expected a record type');
      }
      i++;
      const c0 = tok.text.charCodeAt(0);
      if (!tok.quoted && c0 >= 0x30 && c0 <= 0x39) {
        if (ttl !== undefined) throw this.err(file, tok, `second TTL "${tok.text}": expected a class or record type`);
        ttl = this.ttl(file, tok);
        continue;
      }
      const asClass = tok.quoted ? undefined : classFromString(tok.text);
      if (asClass !== undefined) {
        if (cls !== undefined) throw this.err(file, tok, `second class "${tok.text}": expected a record type`);
        if (asClass !== this.cls) {
          throw this.err(file, tok, `class ${classToString(asClass)} does not match the zone class ${classToString(this.cls)}`);
        }
        cls = asClass;
        continue;
      }
      const type = tok.quoted ? undefined : typeFromString(tok.text);
      if (type === undefined) throw this.err(file, tok, `unknown record type "${tok.text}": expected a TTL, class or record type`);
      if (isMetaType(type)) throw this.err(file, tok, `${tok.text} is a query type, not allowed in zone data`);
      this.headTtl = ttl;
      this.headCls = cls ?? this.cls;
      this.headType = type;
      return i;
    }
  }

  private resolveTtl(explicit: number | undefined, type: number, data: unknown, file: string, at: Token): number {
    if (explicit !== undefined) {
      this.lastTtl = explicit;
      return explicit;
    }
    if (this.dollarTtl !== undefined) return this.dollarTtl;
    if (this.lastTtl !== undefined) return this.lastTtl;
    if (type === RRType.SOA && data && !(data instanceof Uint8Array)) {
      const min = (data as { minimum: number }).minimum;
      this.warn(file, at.line, at.col, `no TTL specified; using the SOA minimum ${min} (RFC 2308: add $TTL)`);
      this.lastTtl = min;
      return min;
    }
    if (this.opts.defaultTtl !== undefined) return this.opts.defaultTtl;
    throw this.err(file, at, 'no TTL specified: expected a TTL, a $TTL directive or an earlier record to take it from');
  }

  private record(e: Entry, file: string): Step {
    const t = e.tokens;
    let owner: Name;
    let i = 0;
    if (e.blankOwner) {
      if (!this.owner) throw this.err(file, t[0]!, 'no previous owner name for a line that starts with whitespace');
      owner = this.owner;
    } else {
      const text = t[0]!.text;
      if (this.lastOwner && text === this.lastOwnerText && this.origin === this.lastOwnerOrigin && !t[0]!.quoted) {
        // The same owner as the previous record: one Name object for both, so the records
        // need one key and a zone tree keeps them without copying.
        owner = this.lastOwner;
        this.owner = owner;
      } else {
        try {
          owner = this.name(file, t[0]!, 'owner name');
        } catch (x) {
          this.owner = undefined; // continuation lines below have no valid owner either
          throw x;
        }
        this.owner = owner;
        this.lastOwner = owner;
        this.lastOwnerText = text;
        this.lastOwnerOrigin = this.origin;
      }
      i = 1;
    }
    const next = this.head(t, i, file);
    const type = this.headType;
    const cls = this.headCls;
    const explicitTtl = this.headTtl;
    const data = this.rdata(type, t, next, file, this.origin);
    const ttl = this.resolveTtl(explicitTtl, type, data, file, t[0]!);
    const rr: ResourceRecord = { name: owner, type, class: cls, ttl, data };
    if (this.table) this.table.set(rr, file, t[0]!.line, t[0]!.col);
    else if (this.track) positions.set(positionKey(rr), { file, line: t[0]!.line, col: t[0]!.col });
    this.recordStep.rr = rr;
    return this.recordStep;
  }

  private rdata(type: number, t: Token[], from: number, file: string, origin: Name): unknown {
    const toks = new Tokens(t, file, t[t.length - 1]!.line, t[t.length - 1]!.col + t[t.length - 1]!.text.length, from);
    try {
      return rdataFromText(type, toks, origin);
    } catch (x) {
      if (x instanceof TextError) throw new ZoneError(x.reason, file, x.line || t[0]!.line, x.col || t[0]!.col, false, type);
      throw new ZoneError((x as Error).message, file, t[0]!.line, t[0]!.col, false, type);
    }
  }

  /**
   * BIND's `$GENERATE range lhs [ttl] [class] type rhs...`: range is `start-stop[/step]`;
   * in lhs and rhs `$` is the counter and `${offset[,width[,base]]}` formats it (base d, o, x,
   * X, n, N: the last two are reversed nibbles for ip6.arpa); `\$` is a literal `$`.
   */
  private *generate(e: Entry, file: string): Generator<ResourceRecord> {
    const t = e.tokens;
    const d = t[0]!;
    if (t.length < 5) {
      const last = t[t.length - 1]!;
      throw this.err(file, { line: last.line, col: last.col + last.text.length }, 'expected "$GENERATE range owner [ttl] [class] type rdata"');
    }
    const rangeTok = t[1]!;
    const m = /^([0-9]+)-([0-9]+)(?:\/([0-9]+))?$/.exec(rangeTok.text);
    if (!m) throw this.err(file, rangeTok, `bad $GENERATE range "${rangeTok.text}": expected start-stop or start-stop/step`);
    const start = Number(m[1]), stop = Number(m[2]), step = m[3] === undefined ? 1 : Number(m[3]);
    if (stop < start) throw this.err(file, rangeTok, `bad $GENERATE range "${rangeTok.text}": stop is below start`);
    if (step < 1) throw this.err(file, rangeTok, `bad $GENERATE range "${rangeTok.text}": step must be at least 1`);
    if (stop > 0xffffffff) throw this.err(file, rangeTok, `bad $GENERATE range "${rangeTok.text}": above 4294967295`);
    const count = Math.floor((stop - start) / step) + 1;
    if (count > this.generateLimit) {
      throw this.err(file, rangeTok, `$GENERATE range "${rangeTok.text}" makes ${count} records, above the limit of ${this.generateLimit}`);
    }
    const lhs = t[2]!;
    const head = { next: this.head(t, 3, file), ttl: this.headTtl, cls: this.headCls, type: this.headType };
    const rhs = t.slice(head.next);
    if (rhs.length === 0) throw this.err(file, { line: d.line, col: d.col }, '$GENERATE: expected rdata after the type');
    // Check the templates once so a bad modifier is reported at its token, not per record.
    for (const tok of [lhs, ...rhs]) substitute(tok.text, start, (reason) => this.err(file, tok, reason));
    const origin = this.origin;
    const ttl = this.resolveTtl(head.ttl, head.type, undefined, file, d);
    for (let v = start; v <= stop; v += step) {
      const ownerTok: Token = { ...lhs, text: substitute(lhs.text, v, (r) => this.err(file, lhs, r)) };
      const owner = this.name(file, ownerTok, '$GENERATE owner');
      const toks = rhs.map((x) => ({ ...x, text: substitute(x.text, v, (r) => this.err(file, x, r)) }));
      const data = this.rdata(head.type, toks, 0, file, origin);
      const rr: ResourceRecord = { name: owner, type: head.type, class: head.cls, ttl, data };
      if (this.table) this.table.set(rr, file, d.line, d.col);
      else if (this.track) positions.set(positionKey(rr), { file, line: d.line, col: d.col });
      yield rr;
    }
  }
}

/** Expands `$`, `${offset,width,base}` and keeps `\$` (a literal `$` to the name parser). */
export function substitute(text: string, value: number, fail: (reason: string) => Error): string {
  if (text.indexOf('$') < 0) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      out += c + text[i + 1];
      i++;
      continue;
    }
    if (c !== '$') {
      out += c;
      continue;
    }
    if (text[i + 1] !== '{') {
      out += String(value);
      continue;
    }
    const close = text.indexOf('}', i);
    if (close < 0) throw fail('unclosed "${" in $GENERATE template: expected "}"');
    const spec = text.slice(i + 2, close);
    const mm = /^([+-]?[0-9]+)(?:,([0-9]+)(?:,([doxXnN]))?)?$/.exec(spec);
    if (!mm) throw fail(`bad $GENERATE modifier "\${${spec}}": expected \${offset[,width[,base]]} with base d, o, x, X, n or N`);
    const n = value + Number(mm[1]);
    if (n < 0) throw fail(`$GENERATE modifier "\${${spec}}" gives a negative number`);
    const width = mm[2] === undefined ? 0 : Number(mm[2]);
    out += formatGenerated(n, width, mm[3] ?? 'd');
    i = close;
  }
  return out;
}

function formatGenerated(n: number, width: number, base: string): string {
  if (base === 'n' || base === 'N') {
    // Reversed nibbles as BIND writes them: width counts characters, dots included, and a
    // separator follows each nibble while width or value remain (so it may end with a dot).
    const digits = base === 'n' ? '0123456789abcdef' : '0123456789ABCDEF';
    let out = '';
    let v = n;
    let w = width;
    do {
      out += digits[v % 16];
      v = Math.floor(v / 16);
      if (w > 0) w--;
      if (w > 0 || v !== 0) {
        out += '.';
        if (w > 0) w--;
      }
    } while (v !== 0 || w > 0);
    return out;
  }
  let s = base === 'o' ? n.toString(8) : base === 'x' ? n.toString(16) : base === 'X' ? n.toString(16).toUpperCase() : String(n);
  if (s.length < width) s = s.padStart(width, '0');
  return s;
}

interface Frame {
  readonly file: string;
  readonly real: string;
}

function includeError(e: Extract<Step, { kind: 'include' }>, file: string, reason: string): ZoneError {
  return new ZoneError(reason, file, e.tok.line, e.tok.col, true);
}

function checkIncludable(step: Extract<Step, { kind: 'include' }>, file: string, stack: Frame[], depth: number): string {
  let real: string;
  try {
    const st = statSync(step.path);
    if (!st.isFile()) throw includeError(step, file, `$INCLUDE "${step.path}" is not a regular file`);
    real = realpathSync(step.path);
  } catch (x) {
    if (x instanceof ZoneError) throw x;
    throw includeError(step, file, `cannot open $INCLUDE file "${step.path}": ${(x as NodeJS.ErrnoException).code ?? (x as Error).message}`);
  }
  if (stack.some((f) => f.real === real)) throw includeError(step, file, `$INCLUDE loop: "${step.path}" is already being read`);
  if (stack.length >= depth) throw includeError(step, file, `$INCLUDE nested deeper than ${depth} files`);
  return real;
}

/**
 * Streams the records of a master file. Reads the file in 64 KiB chunks, so memory does not
 * grow with the file. Throws `ZoneError` on the first error unless `onError` is given (the
 * records before it are yielded first).
 */
export async function* readZoneFile(path: string, opts: ZoneParseOptions): AsyncGenerator<ResourceRecord> {
  for await (const batch of readZoneFileBatches(path, opts)) yield* batch;
}

/** Records per batch of `readZoneFileBatches` at most (a `$GENERATE` may make a million). */
const BATCH = 1024;

/**
 * `readZoneFile` in batches: the records of one chunk of the file (at most 1024 at a time), in
 * file order. A loader of a large zone should use this one: an async generator costs a few
 * promises per value it yields, which at a million records is a good part of the parse.
 * `onError` may be called for a record of a batch before the batch's earlier records are seen.
 * Throws `ZoneError` on the first error unless `onError` is given (the records before it are
 * yielded first).
 */
export async function* readZoneFileBatches(path: string, opts: ZoneParseOptions): AsyncGenerator<ResourceRecord[]> {
  const core = new ParserCore(opts);
  const depth = opts.includeDepth ?? 20;
  const stack: Frame[] = [];
  let stopped = false;
  const fail = (e: unknown): void => {
    if (!(e instanceof ZoneError)) throw e;
    if (!opts.onError) throw e;
    opts.onError(e);
    if (e.fatal) stopped = true;
  };

  async function* run(file: string, real: string): AsyncGenerator<ResourceRecord[]> {
    stack.push({ file, real });
    const lexer = new Lexer(file);
    const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 64 * 1024 });
    try {
      let lexError: unknown;
      const feed = (chunk: string | undefined): void => {
        try {
          if (chunk === undefined) lexer.end();
          else lexer.feed(chunk);
        } catch (x) {
          lexError = x; // reported after the entries lexed before it
        }
      };
      const chunks = stream[Symbol.asyncIterator]();
      for (;;) {
        const next = await chunks.next();
        feed(next.done ? undefined : (next.value as string));
        let batch: ResourceRecord[] = [];
        let failure: { error: unknown } | undefined;
        let halted = false;
        // Reports a recoverable error; false, with `failure` set, when `fail` throws it on.
        const recover = (x: unknown): boolean => {
          try {
            fail(x);
            return true;
          } catch (y) {
            failure = { error: y };
            return false;
          }
        };
        // The entries lexed so far, in a plain loop: a generator between the lexer and the
        // batches cost an iterator result per record. A recoverable error is reported (`fail`)
        // and the next entry read; an error `fail` throws on is thrown after the records parsed
        // before it.
        for (let e = lexer.shift(); e && !stopped; e = lexer.shift()) {
          let step: Step;
          try {
            step = core.entry(e, file);
          } catch (x) {
            if (!recover(x)) break;
            continue;
          }
          if (step.kind === 'record') {
            batch.push(step.rr);
            if (batch.length >= BATCH) {
              yield batch;
              batch = [];
            }
          } else if (step.kind === 'include') {
            if (batch.length) yield batch;
            batch = [];
            yield* include(step, file);
          } else if (step.kind === 'generate') {
            try {
              for (const rr of step.records) {
                batch.push(rr);
                if (batch.length >= BATCH) {
                  yield batch;
                  batch = [];
                }
              }
            } catch (x) {
              if (!recover(x)) break;
              continue; // as for an entry that failed: the loop's condition sees `stopped`
            }
          }
          if (stopped) {
            halted = true; // a fatal error while this record or include was read
            break;
          }
        }
        if (batch.length) yield batch;
        if (failure) throw failure.error;
        if (halted) return;
        if (lexError !== undefined) {
          fail(lexError);
          return;
        }
        if (stopped || next.done) return;
      }
    } finally {
      stream.destroy();
      stack.pop();
    }
  }

  async function* include(step: Extract<Step, { kind: 'include' }>, file: string): AsyncGenerator<ResourceRecord[]> {
    let real: string;
    try {
      real = checkIncludable(step, file, stack, depth);
    } catch (x) {
      fail(x);
      return;
    }
    // RFC 1035 §5.1: the include does not change the including file's origin or owner.
    const saved = { origin: core.origin, owner: core.owner };
    core.origin = step.origin;
    core.owner = undefined;
    try {
      yield* run(step.path, real);
    } finally {
      core.origin = saved.origin;
      core.owner = saved.owner;
    }
  }

  let real: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new ZoneError('not a regular file', path, 0, 0, true);
    real = realpathSync(path);
  } catch (x) {
    if (x instanceof ZoneError) throw x;
    throw new ZoneError(`cannot open zone file: ${(x as NodeJS.ErrnoException).code ?? (x as Error).message}`, path, 0, 0, true);
  }
  yield* run(path, real);
}

/**
 * Parses zone text held in memory. `$INCLUDE` paths are relative to `file`'s folder (or the
 * working directory). Throws `ZoneError` on the first error unless `onError` is given.
 */
export function parseZoneText(text: string, opts: ZoneParseOptions): ResourceRecord[] {
  const core = new ParserCore(opts);
  const depth = opts.includeDepth ?? 20;
  const out: ResourceRecord[] = [];
  const stack: Frame[] = [];
  let stopped = false;
  const fail = (e: unknown): void => {
    if (!(e instanceof ZoneError)) throw e;
    if (!opts.onError) throw e;
    opts.onError(e);
    if (e.fatal) stopped = true;
  };

  const run = (body: string, file: string, real: string): void => {
    stack.push({ file, real });
    const lexer = new Lexer(file);
    const drain = (): void => {
      for (let e = lexer.shift(); e && !stopped; e = lexer.shift()) {
        let step: Step;
        try {
          step = core.entry(e, file);
          if (step.kind === 'record') out.push(step.rr);
          else if (step.kind === 'generate') for (const rr of step.records) out.push(rr);
        } catch (x) {
          fail(x);
          continue;
        }
        if (step.kind === 'include') {
          let realInc: string;
          try {
            realInc = checkIncludable(step, file, stack, depth);
          } catch (x) {
            fail(x);
            continue;
          }
          const saved = { origin: core.origin, owner: core.owner };
          core.origin = step.origin;
          core.owner = undefined;
          try {
            run(readFileSync(step.path, 'utf8'), step.path, realInc);
          } finally {
            core.origin = saved.origin;
            core.owner = saved.owner;
          }
        }
      }
    };
    try {
      lexer.feed(body);
      drain();
      if (!stopped) {
        try {
          lexer.end();
        } catch (x) {
          fail(x);
        }
        drain();
      }
    } catch (x) {
      // A fatal lexer error inside feed(): the entries already lexed are still good.
      if (!(x instanceof ZoneError)) throw x;
      drain();
      fail(x);
    } finally {
      stack.pop();
    }
  };
  const file = opts.file ?? '';
  run(text, file, file ? safeRealpath(file) : '<text>');
  return out;
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}
