// The machinery of the authoritative differential test: probes (one question, one transport),
// running them against several servers, and the documented-difference rules a disagreement
// must match to be accepted.
import type { Message } from '../../../src/wire/index.js';
import { compareResponses, type Difference, type Field } from './compare.js';
import { mapLimit, query, type QueryOptions, type ServerAddress } from './query.js';

export interface Probe {
  readonly qname: string;
  readonly qtype: string;
  readonly opts: QueryOptions;
  /** e.g. "udp/noedns", "udp/edns512", "tcp". */
  readonly transport: string;
}

export interface Transport {
  readonly label: string;
  readonly opts: QueryOptions;
}

/** The transports every question is asked over. */
export const TRANSPORTS: readonly Transport[] = [
  { label: 'udp/noedns', opts: { edns: false } },
  { label: 'udp/edns512', opts: { bufsize: 512 } },
  { label: 'udp/edns1232', opts: { bufsize: 1232 } },
  { label: 'udp/edns4096+do', opts: { bufsize: 4096, do: true } },
  { label: 'tcp', opts: { tcp: true, bufsize: 1232 } },
];

/** Extra sizes for the truncation tests. */
export const SIZE_TRANSPORTS: readonly Transport[] = [
  ...TRANSPORTS,
  { label: 'udp/edns600', opts: { bufsize: 600 } },
  { label: 'udp/edns1400', opts: { bufsize: 1400 } },
  { label: 'udp/edns65535', opts: { bufsize: 65535 } },
  { label: 'tcp/noedns', opts: { tcp: true, edns: false } },
];

/** A small deterministic PRNG (mulberry32), so every run asks the same questions. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Flips the case of letters at random (RFC 4343: the answer must not depend on it). */
export function randomCase(name: string, rnd: () => number): string {
  return [...name].map((c) => (rnd() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('');
}

/**
 * Every (name, qtype) pair over every transport; names are relative to `origin` unless they
 * end with a dot. Every second probe gets a random-case qname.
 */
export function makeProbes(
  origin: string, names: readonly string[], qtypes: readonly string[], transports: readonly Transport[], seed: number,
): Probe[] {
  const rnd = prng(seed);
  const out: Probe[] = [];
  for (const n of names) {
    const abs = n.endsWith('.') ? n : n === '@' ? origin : `${n}.${origin}`;
    for (const qtype of qtypes) {
      for (const tr of transports) {
        const qname = out.length % 2 === 1 ? randomCase(abs, rnd) : abs;
        out.push({ qname, qtype, opts: tr.opts, transport: tr.label });
      }
    }
  }
  return out;
}

export interface NamedServer extends ServerAddress {
  readonly name: string;
}

export interface ProbeResult {
  readonly probe: Probe;
  /** Reply per server name. */
  readonly replies: ReadonlyMap<string, Message>;
}

/** Asks every server every probe (at most `concurrency` probes in flight). */
export async function runProbes(servers: readonly NamedServer[], probes: readonly Probe[], concurrency = 16): Promise<ProbeResult[]> {
  return mapLimit(probes, concurrency, async (probe) => {
    const replies = new Map<string, Message>();
    await Promise.all(servers.map(async (s) => {
      try {
        const r = await query(s, probe.qname, probe.qtype, probe.opts);
        replies.set(s.name, r.message);
      } catch (e) {
        throw new Error(`${s.name}: ${probe.qname}/${probe.qtype} over ${probe.transport}: ${(e as Error).message}`);
      }
    }));
    return { probe, replies };
  });
}

/** What a rule sees of one disagreement. */
export interface DifferenceContext {
  readonly probe: Probe;
  /** The server under test (Portcullis, or the first peer when peers are compared). */
  readonly subject: string;
  /** The server it is compared with. */
  readonly peer: string;
  readonly a: Message;
  readonly b: Message;
  readonly diff: Difference;
}

/** A documented difference: `id` is the heading anchor in docs/differences.md. */
export interface DifferenceRule {
  readonly id: string;
  readonly fields: readonly Field[];
  /** Which server pairs it applies to (subject, peer); any order. */
  readonly between: readonly [string, string];
  readonly matches: (ctx: DifferenceContext) => boolean;
}

export interface Tally {
  probes: number;
  queries: number;
  identical: number;
  documented: Map<string, number>;
  undocumented: string[];
}

/** Compares `subject` with `peer` over all results, sorting each difference into a rule or a failure. */
export function tallyDifferences(
  results: readonly ProbeResult[], subject: string, peer: string, rules: readonly DifferenceRule[], tally: Tally,
): void {
  for (const r of results) {
    const a = r.replies.get(subject);
    const b = r.replies.get(peer);
    if (!a || !b) continue;
    tally.probes++;
    const diffs = compareResponses(a, b);
    if (diffs.length === 0) {
      tally.identical++;
      continue;
    }
    for (const diff of diffs) {
      const ctx: DifferenceContext = { probe: r.probe, subject, peer, a, b, diff };
      const rule = rules.find((x) => x.fields.includes(diff.field) && pairMatches(x.between, subject, peer) && x.matches(ctx));
      if (rule) tally.documented.set(rule.id, (tally.documented.get(rule.id) ?? 0) + 1);
      else tally.undocumented.push(describeUndocumented(ctx));
    }
  }
}

function pairMatches(between: readonly [string, string], subject: string, peer: string): boolean {
  const [x, y] = between;
  const one = (p: string, s: string): boolean => p === '*' || p === s;
  return (one(x, subject) && one(y, peer)) || (one(x, peer) && one(y, subject));
}

function describeUndocumented(c: DifferenceContext): string {
  const d = c.diff;
  const what = d.a !== undefined
    ? `${d.field} ${d.a} vs ${d.b}`
    : `${d.field}: only ${c.subject} [${(d.onlyA ?? []).join(' | ')}] only ${c.peer} [${(d.onlyB ?? []).join(' | ')}]`;
  return `${c.probe.qname} ${c.probe.qtype} ${c.probe.transport}: ${c.subject} vs ${c.peer}: ${what}`;
}

export function newTally(): Tally {
  return { probes: 0, queries: 0, identical: 0, documented: new Map(), undocumented: [] };
}
