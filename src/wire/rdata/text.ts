/** Presentation-text helpers shared by the record codecs: names and TTL-style durations. */
import { Name } from '../name.js';
import type { Token, Tokens } from '../tokens.js';
import { TextError } from '../errors.js';

/** Parses a name token relative to `origin`, turning parse errors into positioned ones. */
export function nameFromToken(t: Tokens, tok: Token, origin: Name): Name {
  try {
    return Name.parse(tok.text, origin);
  } catch (e) {
    throw t.error(tok, e instanceof TextError ? e.reason : (e as Error).message);
  }
}

/**
 * TTL text: seconds, or BIND's unit form (`1w2d3h4m5s`, case-insensitive). At most 2^31-1
 * (RFC 2181 §8).
 */
export function parseTtlText(text: string): number | undefined {
  if (/^[0-9]+$/.test(text)) {
    const v = Number(text);
    return v <= 0xffffffff ? v : undefined;
  }
  const re = /([0-9]+)([wdhms])/gi;
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(re)) {
    if (m.index !== consumed) return undefined;
    consumed += m[0].length;
    const mult = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 }[m[2]!.toLowerCase() as 'w']!;
    total += Number(m[1]) * mult;
  }
  if (consumed !== text.length || consumed === 0 || total > 0xffffffff) return undefined;
  return total;
}

export function ttlFromToken(t: Tokens, tok: Token, what = 'TTL'): number {
  const v = parseTtlText(tok.text);
  if (v === undefined) throw t.error(tok, `${what} must be a number of seconds or like 1h30m, got "${tok.text}"`);
  return v;
}
