import type { Token } from '../wire/index.js';

/**
 * A zone-file problem at a position: `FILE:LINE:COL: message`.
 *
 * `fatal` errors stop parsing even in error-collecting mode: after a bad `$ORIGIN`, an
 * unreadable `$INCLUDE` or broken parentheses, every later name could be wrong. `rrtype` is
 * set when the error is in the RDATA of a record of that type.
 */
export class ZoneError extends Error {
  constructor(
    readonly reason: string,
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly fatal = false,
    readonly rrtype?: number,
  ) {
    super(`${file || '<input>'}:${line}:${col}: ${reason}`);
    this.name = 'ZoneError';
  }
}

/** A zone-file warning (the load goes on): same position format as errors. */
export interface ZoneWarning {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

export function warningText(w: ZoneWarning): string {
  return `${w.file || '<input>'}:${w.line}:${w.col}: ${w.message}`;
}

/**
 * One logical entry of a master file: a record or directive, with parentheses already
 * joined. `blankOwner` is true when the entry began with whitespace (RFC 1035 §5.1: the owner
 * is the previous one). `error` holds a recoverable lexical problem found inside the entry.
 */
export interface Entry {
  readonly tokens: Token[];
  readonly blankOwner: boolean;
  readonly line: number;
  readonly col: number;
  error?: ZoneError;
}

const SPACE = 0x20, TAB = 0x09, CR = 0x0d, SEMI = 0x3b, LPAREN = 0x28, RPAREN = 0x29, QUOTE = 0x22, BSLASH = 0x5c;

/**
 * Streaming master-file lexer (RFC 1035 §5.1). Text is fed in chunks of any size; only the
 * unfinished last line of a chunk is kept, so memory stays bounded by the longest logical
 * entry, not by the file. Tokens keep their backslash escapes (the codecs decode them) and
 * lose their quotes (`quoted` says they had them). `\r` counts as whitespace, so CRLF files load.
 */
export class Lexer {
  private pending = '';
  private lineNo = 0;
  private out: Entry[] = [];
  private outPos = 0;
  // State of the entry being collected; it may span lines inside parentheses or quotes.
  /** Scratch for the entry's tokens (the first `ntok`), reused from entry to entry. */
  private tokens: Token[] = [];
  private ntok = 0;
  private blank = false;
  private startLine = 0;
  private startCol = 0;
  private parenLine = 0;
  private parenCol = 0;
  private inParens = false;
  private quote: { text: string; line: number; col: number } | undefined;
  private entryError: ZoneError | undefined;
  private ended = false;

  constructor(readonly file: string) {}

  /** Adds text; complete lines are lexed right away. */
  feed(chunk: string): void {
    let text = this.pending.length ? this.pending + chunk : chunk;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.lexLine(text, start, nl);
      start = nl + 1;
    }
    this.pending = start < text.length ? text.slice(start) : '';
    text = '';
  }

  /** Marks the end of input: lexes the last line (no newline needed) and checks for open blocks. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.pending.length) {
      const text = this.pending;
      this.pending = '';
      this.lexLine(text, 0, text.length);
    }
    if (this.quote) {
      const q = this.quote;
      this.quote = undefined;
      throw new ZoneError('unterminated quoted string: expected a closing \'"\'', this.file, q.line, q.col, true);
    }
    if (this.inParens) {
      throw new ZoneError('unclosed "(": expected ")" before the end of the file', this.file, this.parenLine, this.parenCol, true);
    }
  }

  /** The next complete entry, or undefined when more input is needed. */
  shift(): Entry | undefined {
    if (this.outPos >= this.out.length) {
      if (this.out.length) {
        this.out = [];
        this.outPos = 0;
      }
      return undefined;
    }
    return this.out[this.outPos++];
  }

  private lexLine(s: string, i: number, end: number): void {
    this.lineNo++;
    const line = this.lineNo;
    const lineStart = i;
    if (this.quote) {
      // A quoted string continues from the previous line (Knot and BIND keep the newline).
      this.quote.text += '\n';
      i = this.continueQuote(s, i, end);
    } else if (!this.inParens && this.ntok === 0) {
      const c = i < end ? s.charCodeAt(i) : 0;
      this.blank = c === SPACE || c === TAB;
    }
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c === SPACE || c === TAB || c === CR) {
        i++;
        continue;
      }
      if (c === SEMI) break;
      const col = i - lineStart + 1;
      if (c === LPAREN) {
        if (this.inParens) throw new ZoneError('nested "(": parentheses do not nest in zone files', this.file, line, col, true);
        this.inParens = true;
        this.parenLine = line;
        this.parenCol = col;
        this.markStart(line, col);
        i++;
        continue;
      }
      if (c === RPAREN) {
        if (!this.inParens) throw new ZoneError('")" without a matching "("', this.file, line, col, true);
        this.inParens = false;
        i++;
        continue;
      }
      if (c === QUOTE) {
        this.markStart(line, col);
        this.quote = { text: '', line, col };
        i = this.continueQuote(s, i + 1, end);
        continue;
      }
      // A bare word: runs to whitespace or a special character; `\X` escapes anything.
      const from = i;
      while (i < end) {
        const d = s.charCodeAt(i);
        if (d === SPACE || d === TAB || d === CR || d === SEMI || d === LPAREN || d === RPAREN || d === QUOTE) break;
        i += d === BSLASH && i + 1 < end ? 2 : 1;
      }
      this.markStart(line, col);
      this.tokens[this.ntok++] = { text: s.slice(from, i), quoted: false, line, col };
    }
    if (!this.inParens && !this.quote) this.finishEntry();
  }

  /** Consumes quoted text up to the closing quote (pushing the token) or the end of the line. */
  private continueQuote(s: string, i: number, end: number): number {
    const q = this.quote!;
    const from = i;
    while (i < end) {
      const d = s.charCodeAt(i);
      if (d === QUOTE) {
        q.text += s.slice(from, i);
        this.tokens[this.ntok++] = { text: q.text, quoted: true, line: q.line, col: q.col };
        this.quote = undefined;
        return i + 1;
      }
      i += d === BSLASH && i + 1 < end ? 2 : 1;
    }
    // A trailing `\r` of a CRLF line is not part of the string.
    let stop = end;
    if (stop > from && s.charCodeAt(stop - 1) === CR) stop--;
    q.text += s.slice(from, stop);
    return end;
  }

  private markStart(line: number, col: number): void {
    if (this.ntok === 0 && this.startLine === 0) {
      this.startLine = line;
      this.startCol = col;
    }
  }

  private finishEntry(): void {
    if (this.ntok) {
      // An exact-size copy: an array grown by push starts at 17 slots, and a million entries
      // would each carry that spare room to the garbage collector.
      const tokens = this.tokens.slice(0, this.ntok);
      this.ntok = 0;
      const e: Entry = { tokens, blankOwner: this.blank, line: this.startLine, col: this.startCol };
      if (this.entryError) e.error = this.entryError;
      this.out.push(e);
    }
    this.entryError = undefined;
    this.startLine = 0;
    this.startCol = 0;
    this.blank = false;
  }
}

/** Lexes a whole text at once (tests and small inputs). */
export function lexText(text: string, file = ''): Entry[] {
  const lx = new Lexer(file);
  lx.feed(text);
  lx.end();
  const out: Entry[] = [];
  for (let e = lx.shift(); e; e = lx.shift()) out.push(e);
  return out;
}
