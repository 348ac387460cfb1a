import { TextError } from './errors.js';

/** One presentation-format token. `text` keeps escapes; quotes are removed (see `quoted`). */
export interface Token {
  readonly text: string;
  readonly quoted: boolean;
  readonly line: number;
  readonly col: number;
}

/**
 * The tokens of one record's RDATA (or any presentation text), consumed left to right by a
 * record codec's `fromText`. Errors point at the token that was wrong, or at the end.
 */
export class Tokens {
  private i = 0;

  /** `start`: the first token to read (a record's RDATA after its owner, TTL, class and type). */
  constructor(
    readonly list: readonly Token[],
    readonly file = '',
    private readonly endLine = list.length ? list[list.length - 1]!.line : 0,
    private readonly endCol = list.length ? list[list.length - 1]!.col + list[list.length - 1]!.text.length : 0,
    start = 0,
  ) {
    this.i = start;
  }

  /** Splits a single line of presentation text (no parentheses or comments handling beyond `;`). */
  static fromString(text: string, line = 1): Tokens {
    const out: Token[] = [];
    let i = 0;
    const n = text.length;
    while (i < n) {
      const c = text[i]!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '(' || c === ')') {
        i++;
        continue;
      }
      if (c === ';') break;
      const col = i + 1;
      if (c === '"') {
        let s = '';
        i++;
        while (i < n && text[i] !== '"') {
          if (text[i] === '\\' && i + 1 < n) {
            s += text[i]! + text[i + 1]!;
            i += 2;
          } else s += text[i++];
        }
        if (i >= n) throw new TextError('unterminated quoted string', line, col);
        i++;
        out.push({ text: s, quoted: true, line, col });
        continue;
      }
      let s = '';
      while (i < n) {
        const d = text[i]!;
        if (d === ' ' || d === '\t' || d === '\n' || d === '\r' || d === ';' || d === '(' || d === ')' || d === '"') break;
        if (d === '\\' && i + 1 < n) {
          s += d + text[i + 1]!;
          i += 2;
        } else {
          s += d;
          i++;
        }
      }
      out.push({ text: s, quoted: false, line, col });
    }
    return new Tokens(out);
  }

  get atEnd(): boolean {
    return this.i >= this.list.length;
  }

  get remaining(): number {
    return this.list.length - this.i;
  }

  peek(): Token | undefined {
    return this.list[this.i];
  }

  /** The next token; `what` names the expected field for the error at end of input. */
  next(what: string): Token {
    const t = this.list[this.i];
    if (!t) throw new TextError(`missing ${what}`, this.endLine, this.endCol, this.file);
    this.i++;
    return t;
  }

  /** All tokens left (for fields that run to the end, e.g. base64 split by spaces). */
  rest(): Token[] {
    const r = this.list.slice(this.i);
    this.i = this.list.length;
    return r;
  }

  /** Throws unless every token was consumed. */
  expectEnd(): void {
    const t = this.list[this.i];
    if (t) throw this.error(t, `unexpected "${t.text}" after the record data`);
  }

  error(t: Token | undefined, reason: string): TextError {
    if (!t) return new TextError(reason, this.endLine, this.endCol, this.file);
    return new TextError(reason, t.line, t.col, this.file);
  }
}
