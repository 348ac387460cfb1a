// The benchmark's query mix for a zone written by gen-zone.ts: deterministic (same count,
// same lines), in dnsperf's input format ("name type" per line).
//
// The mix imitates what an authoritative server for a hosting zone sees: mostly positive A and
// AAAA answers, some MX/TXT/SRV, CNAMEs to chase, referrals below delegations, NODATA, and a
// share of NXDOMAIN (typos, scanners). A few names come in mixed case, as resolvers using
// 0x20 case randomisation send them, so case-preserving answer caches are exercised too.
import { GEN_ORIGIN } from './gen-zone.js';

/** Share of each kind of question, in percent; sums to 100. */
export const QUERY_MIX = {
  a: 50,
  aaaa: 12,
  mx: 5,
  txt: 5,
  cname: 6,
  srv: 3,
  referral: 6,
  nodata: 3,
  nxdomain: 10,
} as const;

export type QueryKind = keyof typeof QUERY_MIX;

export interface BenchQuery {
  readonly name: string;
  readonly type: string;
  readonly kind: QueryKind;
}

/** Number of hosts (h0, h1, ... in base 36) gen-zone writes for `records` records. */
export function hostsForRecords(records: number): number {
  // gen-zone writes 5 records of apex data, then 11 records per 10 hosts (delegations add glue).
  return Math.max(10, Math.floor(((records - 5) * 10) / 11));
}

/** The gen-zone host index `i` of the given residue class (i % 10 === r), picked by `x`. */
function hostOf(r: number, x: number, hosts: number): number {
  const groups = Math.max(1, Math.floor(hosts / 10));
  return (x % groups) * 10 + r;
}

function name(label: string): string {
  return `${label}.${GEN_ORIGIN}`;
}

/** Mixed case for 0x20-style clients: deterministic per position. */
function mixCase(s: string, x: number): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += (x >> (i % 16)) & 1 ? s[i]!.toUpperCase() : s[i];
  return out;
}

export interface QueryOptions {
  /** Percentage of names sent in mixed case (default 5). */
  mixedCase?: number;
  /**
   * Kinds left out. Resolver runs leave out `referral`: a resolver would follow the delegation
   * to the glue addresses (10.0.0.0/8), which are not on loopback.
   */
  exclude?: readonly QueryKind[];
}

/** `count` queries for a gen-zone zone of `records` records. Same arguments, same queries. */
export function generateQueries(records: number, count: number, opts: QueryOptions = {}): BenchQuery[] {
  const mixedCase = opts.mixedCase ?? 5;
  const exclude = new Set(opts.exclude ?? []);
  const hosts = hostsForRecords(records);
  let seed = 0x5eed;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff);
  const kinds: QueryKind[] = [];
  for (const [k, pct] of Object.entries(QUERY_MIX) as Array<[QueryKind, number]>) {
    if (!exclude.has(k)) for (let i = 0; i < pct; i++) kinds.push(k);
  }
  if (kinds.length === 0) throw new Error('every query kind is excluded');
  const out: BenchQuery[] = [];
  for (let n = 0; n < count; n++) {
    const kind = kinds[rnd() % kinds.length]!;
    const x = rnd();
    let q: { name: string; type: string };
    switch (kind) {
      case 'a': q = { name: name(`h${hostOf(x % 4, x >> 2, hosts).toString(36)}`), type: 'A' }; break;
      case 'aaaa': q = { name: name(`h${hostOf(4, x, hosts).toString(36)}`), type: 'AAAA' }; break;
      case 'mx': q = { name: name(`h${hostOf(5, x, hosts).toString(36)}`), type: 'MX' }; break;
      case 'txt': q = { name: name(`h${hostOf(6, x, hosts).toString(36)}`), type: 'TXT' }; break;
      case 'cname': q = { name: name(`h${hostOf(7, x, hosts).toString(36)}`), type: 'A' }; break;
      case 'srv': q = { name: name(`_sip._tcp.h${hostOf(8, x, hosts).toString(36)}`), type: 'SRV' }; break;
      case 'referral': q = { name: name(`www.h${hostOf(9, x, hosts).toString(36)}`), type: 'A' }; break;
      case 'nodata': q = { name: name(`h${hostOf(x % 4, x >> 2, hosts).toString(36)}`), type: 'TXT' }; break;
      case 'nxdomain': q = { name: name(`nx${(x % 1_000_000).toString(36)}`), type: x & 1 ? 'A' : 'AAAA' }; break;
    }
    if (rnd() % 100 < mixedCase) q = { ...q, name: mixCase(q.name, rnd()) };
    out.push({ ...q, kind });
  }
  return out;
}

/** dnsperf's input file format. */
export function toDnsperfInput(queries: readonly BenchQuery[]): string {
  let s = '';
  for (const q of queries) s += `${q.name} ${q.type}\n`;
  return s;
}
