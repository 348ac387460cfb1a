// Compares two replies the way the differential tests need: header bits that matter for an
// authoritative answer, and each section as a set of canonical record lines.
import { classToString, rcodeToString, rdataText, typeToString, type Message, type ResourceRecord } from '../../../src/wire/index.js';

export type Field = 'rcode' | 'aa' | 'tc' | 'answer' | 'authority' | 'additional';
export const SECTIONS = ['answer', 'authority', 'additional'] as const;
export type Section = (typeof SECTIONS)[number];

export interface Difference {
  readonly field: Field;
  /** For header fields: the two values as text. */
  readonly a?: string;
  readonly b?: string;
  /** For sections: the canonical lines only one side has. */
  readonly onlyA?: readonly string[];
  readonly onlyB?: readonly string[];
}

/**
 * Types whose RDATA holds domain names (RFC 4034 6.2 list, plus SVCB/HTTPS targets): their
 * case carries no meaning and, with case-insensitive name compression, it even depends on the
 * case of the question (NSD points into the qname), so it is compared without case.
 */
const NAME_RDATA = new Set([2, 3, 4, 5, 6, 7, 8, 9, 12, 14, 15, 17, 18, 21, 24, 26, 33, 35, 36, 39, 46, 47, 64, 65]);

/**
 * One record as `owner ttl CLASS TYPE rdata`: the owner lower-cased (names compare without
 * case, RFC 4343), names inside RDATA too, everything else as our codec prints it, TTL included.
 */
export function canonicalRecord(rr: ResourceRecord): string {
  const rdata = rdataText(rr);
  return `${rr.name.key} ${rr.ttl} ${classToString(rr.class)} ${typeToString(rr.type)} ${NAME_RDATA.has(rr.type) ? rdata.toLowerCase() : rdata}`;
}

export function sectionSet(records: readonly ResourceRecord[]): string[] {
  return [...new Set(records.map(canonicalRecord))].sort();
}

/** Every difference between `a` and `b` (empty when they agree). */
export function compareResponses(a: Message, b: Message): Difference[] {
  const out: Difference[] = [];
  if (a.rcode !== b.rcode) out.push({ field: 'rcode', a: rcodeToString(a.rcode), b: rcodeToString(b.rcode) });
  if (a.aa !== b.aa) out.push({ field: 'aa', a: String(a.aa), b: String(b.aa) });
  if (a.tc !== b.tc) out.push({ field: 'tc', a: String(a.tc), b: String(b.tc) });
  for (const s of SECTIONS) {
    const sa = sectionSet(a[s]);
    const sb = sectionSet(b[s]);
    const inB = new Set(sb);
    const inA = new Set(sa);
    const onlyA = sa.filter((x) => !inB.has(x));
    const onlyB = sb.filter((x) => !inA.has(x));
    if (onlyA.length || onlyB.length) out.push({ field: s, onlyA, onlyB });
  }
  return out;
}

/** A short multi-line description of a reply, for failure messages. */
export function describeResponse(m: Message): string {
  const flags = ['qr', 'aa', 'tc', 'rd', 'ra', 'ad', 'cd'].filter((f) => m[f as keyof Message] === true).join(' ');
  const lines = [`;; ${rcodeToString(m.rcode)} flags: ${flags}${m.edns ? ` edns udp=${m.edns.udpSize}` : ''}`];
  for (const s of SECTIONS) for (const r of sectionSet(m[s])) lines.push(`${s}: ${r}`);
  return lines.join('\n');
}

export function describeDifference(d: Difference): string {
  if (d.a !== undefined) return `${d.field}: ${d.a} vs ${d.b}`;
  return `${d.field}: only first [${(d.onlyA ?? []).join(' | ')}] only second [${(d.onlyB ?? []).join(' | ')}]`;
}
