// Parser for the .rpl replay format of Unbound's testbound and Deckard
// (unbound-testdata/FORMAT-*.txt, deckard-resolver/scenario_guide.rst).
import {
  classFromString, hasCodec, hexToBytes, Name, Opcode, rcodeFromString, recordFromText, RRClass, typeFromString,
  type Question, type ResourceRecord,
} from '../../../src/wire/index.js';

export interface RplEntry {
  readonly line: number;
  match: string[];
  adjust: string[];
  /** REPLY words: flags (QR AA ...), rcode, opcode, DO. */
  flags: Set<string>;
  rcode: number;
  opcode: number;
  question: Question[];
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
  /** HEX_ANSWER / RAW bytes, when given. */
  raw?: Uint8Array;
  extraPackets: number;
}

export interface RplRange {
  readonly start: number;
  readonly end: number;
  addresses: string[];
  entries: RplEntry[];
}

export interface RplStep {
  readonly id: number;
  readonly type: string;
  readonly args: string[];
  entry?: RplEntry;
  readonly line: number;
}

export interface Scenario {
  readonly file: string;
  name: string;
  /** CONFIG section as key/value pairs in order (`name:` lines of a zone clause included). */
  config: Array<[string, string]>;
  ranges: RplRange[];
  steps: RplStep[];
}

export class RplError extends Error {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
  }
}

/** Strips a `;` comment that is not inside double quotes. */
function stripComment(line: string): string {
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '"') q = !q;
    else if (c === ';' && !q) return line.slice(0, i);
  }
  return line;
}

/**
 * A record line. Types our wire layer has no codec for yet (RRSIG, DS, NSEC, ...) become opaque
 * data holding their normalised presentation text: both the scripted servers and the expected
 * answers parse the same way, so such records still compare equal end to end.
 */
export function parseRecordLoose(text: string, origin: Name, ttl: number): ResourceRecord {
  try {
    return recordFromText(text, origin, ttl);
  } catch (e) {
    const parts = text.trim().split(/\s+/);
    let i = 1;
    let rttl = ttl;
    let cls: number = RRClass.IN;
    let type: number | undefined;
    for (; i < parts.length && type === undefined; i++) {
      const p = parts[i]!;
      if (/^\d+$/.test(p)) rttl = Number(p);
      else if (classFromString(p) !== undefined) cls = classFromString(p)!;
      else type = typeFromString(p);
    }
    if (type === undefined || hasCodec(type)) throw e;
    const rest = parts.slice(i).join(' ').toLowerCase();
    return { name: Name.parse(parts[0]!, origin), type, class: cls, ttl: rttl, data: new TextEncoder().encode(rest) };
  }
}

function parseQuestion(text: string, origin: Name): Question {
  const parts = text.trim().split(/\s+/);
  const name = Name.parse(parts[0]!, origin);
  let cls: number = RRClass.IN;
  // `name TYPE` or `name CLASS TYPE` (ANY is both a class and a type: position decides).
  const rest = parts.slice(1);
  const type = typeFromString(rest[rest.length - 1] ?? '');
  if (rest.length === 2) cls = classFromString(rest[0]!) ?? cls;
  if (type === undefined || rest.length > 2) throw new Error(`no type in question "${text}"`);
  return { name, type, class: cls };
}

const OPCODES: Record<string, number> = { QUERY: Opcode.QUERY, IQUERY: Opcode.IQUERY, STATUS: Opcode.STATUS, NOTIFY: Opcode.NOTIFY, UPDATE: Opcode.UPDATE };

export function parseScenario(text: string, file: string): Scenario {
  const lines = text.split(/\r?\n/);
  const scn: Scenario = { file, name: '', config: [], ranges: [], steps: [] };
  let i = 0;
  let origin = Name.root;
  let defTtl = 3600;
  const fail = (msg: string): never => {
    throw new RplError(file, i + 1, msg);
  };
  // CONFIG part
  for (; i < lines.length; i++) {
    const l = stripComment(lines[i]!).trim();
    if (l === 'CONFIG_END') {
      i++;
      break;
    }
    // Several `key: value` pairs may share a line (`forward-zone: name: "." forward-addr: 1.2.3.4`).
    const line = l.replace(/\s#.*$/, '');
    const parts = line.split(/(?:^|\s)([A-Za-z0-9_-]+):(?=\s|$)/);
    for (let k = 1; k + 1 < parts.length; k += 2) {
      scn.config.push([parts[k]!.toLowerCase(), parts[k + 1]!.trim().replace(/^"(.*)"$/, '$1')]);
    }
  }
  const readEntry = (): RplEntry => {
    const e: RplEntry = {
      line: i + 1, match: [], adjust: [], flags: new Set(), rcode: 0, opcode: Opcode.QUERY,
      question: [], answer: [], authority: [], additional: [], extraPackets: 0,
    };
    let section = '';
    let hex: string[] | undefined;
    for (i++; i < lines.length; i++) {
      const raw = lines[i]!;
      const l = stripComment(raw).trim();
      if (hex) {
        if (l === 'HEX_ANSWER_END') {
          e.raw = hexToBytes(hex.join(''));
          hex = undefined;
        } else hex.push(l.replace(/\s+/g, ''));
        continue;
      }
      if (!l) continue;
      const words = l.split(/\s+/);
      const kw = words[0]!;
      if (kw === 'ENTRY_END') return e;
      if (e.extraPackets > 0 && kw !== 'EXTRA_PACKET') continue; // only the first packet is used
      switch (kw) {
        case 'MATCH': e.match.push(...words.slice(1)); break;
        case 'ADJUST': e.adjust.push(...words.slice(1)); break;
        case 'REPLY': case 'FLAGS':
          for (const w of words.slice(1)) {
            const up = w.toUpperCase();
            const rc = up === 'NOTIMPL' ? 4 : rcodeFromString(up);
            if (OPCODES[up] !== undefined) e.opcode = OPCODES[up]!;
            else if (rc !== undefined && !['QR', 'AA', 'TC', 'RD', 'RA', 'AD', 'CD', 'DO'].includes(up)) e.rcode = rc;
            else e.flags.add(up);
          }
          break;
        case 'SECTION': section = (words[1] ?? '').toUpperCase(); break;
        case 'HEX_ANSWER_BEGIN': hex = []; break;
        case 'RAW':
          i++;
          e.raw = hexToBytes(stripComment(lines[i] ?? '').trim().replace(/\s+/g, ''));
          break;
        case 'EXTRA_PACKET': e.extraPackets++; break;
        case '$ORIGIN': origin = Name.parse(words[1]!.endsWith('.') ? words[1]! : words[1]! + '.'); break;
        case '$TTL': defTtl = Number(words[1]); break;
        case 'HEX_EDNSDATA_BEGIN':
          while (i < lines.length && stripComment(lines[i]!).trim() !== 'HEX_EDNSDATA_END') i++;
          break;
        default:
          try {
            if (section === 'QUESTION') e.question.push(parseQuestion(l, origin));
            else if (section === 'ANSWER') e.answer.push(parseRecordLoose(l, origin, defTtl));
            else if (section === 'AUTHORITY') e.authority.push(parseRecordLoose(l, origin, defTtl));
            else if (section === 'ADDITIONAL') e.additional.push(parseRecordLoose(l, origin, defTtl));
            else if (/^[A-Z_]+$/.test(kw)) { /* other keywords (FLAGS, MANDATORY, ...) change nothing we emulate */ }
            else fail(`unexpected line "${l}"`);
          } catch (err) {
            if (err instanceof RplError) throw err;
            fail(`bad record "${l}": ${(err as Error).message}`);
          }
      }
    }
    return fail('ENTRY_BEGIN without ENTRY_END');
  };
  let range: RplRange | undefined;
  let step: RplStep | undefined;
  for (; i < lines.length; i++) {
    const l = stripComment(lines[i]!).trim();
    if (!l) continue;
    const words = l.split(/\s+/);
    switch (words[0]) {
      case 'SCENARIO_BEGIN': scn.name = words.slice(1).join(' '); break;
      case 'SCENARIO_END': return scn;
      case 'RANGE_BEGIN':
        range = { start: Number(words[1]), end: Number(words[2]), addresses: [], entries: [] };
        scn.ranges.push(range);
        step = undefined;
        break;
      case 'RANGE_END': case 'END_RANGE': range = undefined; break;
      case 'ADDRESS':
        if (range) range.addresses.push(words[1]!);
        break;
      case 'STEP':
        range = undefined;
        step = { id: Number(words[1]), type: words[2] ?? '', args: words.slice(3), line: i + 1 };
        scn.steps.push(step);
        break;
      case 'ENTRY_BEGIN': {
        const e = readEntry();
        if (range) range.entries.push(e);
        else if (step) step.entry = e;
        break;
      }
      case '$ORIGIN': origin = Name.parse(words[1]!.endsWith('.') ? words[1]! : words[1]! + '.'); break;
      case '$TTL': defTtl = Number(words[1]); break;
      default:
        // Other lines outside entries (e.g. stray keywords) are ignored like testbound does.
        break;
    }
  }
  return scn;
}
