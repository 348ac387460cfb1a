// Adapts PowerDNS's regression zones to standard zone-file syntax before Portcullis loads them.
// Two records in the suite are PowerDNS-only, and BIND's named-checkzone rejects them as our
// parser does, so the zones are adapted here rather than the parser relaxed (docs/testing.md
// lists the adaptations):
// - `ALIAS` records are dropped (a PowerDNS-specific type with no IANA code point);
// - character-strings over 255 octets (RFC 1035 §3.3) are split into 255-octet chunks, which is
//   how PowerDNS itself stores and serves them (tests/very-long-txt/expected_result).

/** One change made to a zone file, for the test's report. */
export interface Adaptation {
  readonly line: number;
  readonly what: string;
}

export interface AdaptedZone {
  readonly text: string;
  readonly adaptations: readonly Adaptation[];
}

const MAX_STRING = 255;

/** Adapts one zone file's text; lines keep their numbers (a dropped record becomes a comment). */
export function adaptPdnsZone(text: string): AdaptedZone {
  const adaptations: Adaptation[] = [];
  const lines = text.split('\n').map((line, i) => {
    if (isAliasRecord(line)) {
      adaptations.push({ line: i + 1, what: 'dropped ALIAS record' });
      return `; ALIAS dropped by the test harness: ${line}`;
    }
    if (line.includes('"')) {
      const split = splitLongStrings(line);
      if (split.chunks > 0) {
        adaptations.push({ line: i + 1, what: `split ${split.chunks} character-string(s) over ${MAX_STRING} octets` });
        return split.line;
      }
    }
    return line;
  });
  return { text: lines.join('\n'), adaptations };
}

/** A record line whose type field is ALIAS (owner, optional TTL and class, then the type). */
function isAliasRecord(line: string): boolean {
  const code = line.split(';', 1)[0]!;
  const fields = code.trim().split(/\s+/);
  for (let i = /^\s/.test(code) ? 0 : 1; i < fields.length && i < 4; i++) {
    const f = fields[i]!.toUpperCase();
    if (f === 'ALIAS') return true;
    if (!/^\d+[SMHDW]?$/.test(f) && f !== 'IN' && f !== 'CH' && f !== 'HS') return false;
  }
  return false;
}

/**
 * Rewrites each quoted string longer than 255 octets as several adjacent quoted strings of at
 * most 255 octets. An escape (`\"`, `\\`, `\DDD`) is one octet and never cut in two; other
 * characters count by their UTF-8 length.
 */
export function splitLongStrings(line: string): { line: string; chunks: number } {
  let out = '';
  let chunks = 0;
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ';') {
      out += line.slice(i);
      break;
    }
    if (c !== '"') {
      out += c;
      i++;
      continue;
    }
    // A quoted string: collect its units (one octet-sized escape or one character each).
    const units: Array<{ text: string; octets: number }> = [];
    i++;
    while (i < line.length && line[i] !== '"') {
      if (line[i] === '\\') {
        const m = /^\\(\d{3}|.)/.exec(line.slice(i));
        const text = m ? m[0] : '\\';
        units.push({ text, octets: 1 });
        i += text.length;
      } else {
        const cp = line.codePointAt(i)!;
        const ch = String.fromCodePoint(cp);
        units.push({ text: ch, octets: Buffer.byteLength(ch, 'utf8') });
        i += ch.length;
      }
    }
    i++; // the closing quote
    const total = units.reduce((n, u) => n + u.octets, 0);
    if (total <= MAX_STRING) {
      out += `"${units.map((u) => u.text).join('')}"`;
      continue;
    }
    const parts: string[] = [];
    let cur = '';
    let size = 0;
    for (const u of units) {
      if (size + u.octets > MAX_STRING) {
        parts.push(cur);
        cur = '';
        size = 0;
      }
      cur += u.text;
      size += u.octets;
    }
    parts.push(cur);
    chunks++;
    out += parts.map((p) => `"${p}"`).join(' ');
  }
  return { line: out, chunks };
}
