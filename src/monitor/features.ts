import type { Name } from '../wire/index.js';

/**
 * Two-label public suffixes common enough to matter for grouping ("example.co.uk" is one
 * registrant, not all of "co.uk"). Deliberately small: the detector only needs a stable
 * "who controls this name" key, and an unknown suffix errs towards grouping more names together,
 * which makes floods and tunnels easier, not harder, to see.
 */
const MULTI_LABEL_SUFFIXES = new Set([
  'co.uk', 'org.uk', 'ac.uk', 'gov.uk', 'me.uk', 'net.uk', 'ltd.uk', 'plc.uk',
  'com.au', 'net.au', 'org.au', 'edu.au', 'gov.au', 'co.nz', 'org.nz', 'net.nz',
  'co.jp', 'ne.jp', 'or.jp', 'ac.jp', 'go.jp', 'co.kr', 'or.kr',
  'com.br', 'net.br', 'org.br', 'gov.br', 'com.cn', 'net.cn', 'org.cn', 'gov.cn',
  'com.tw', 'com.hk', 'com.sg', 'com.my', 'co.in', 'net.in', 'org.in', 'co.id', 'co.th',
  'co.za', 'com.mx', 'com.ar', 'com.tr', 'com.ua', 'co.il', 'com.pl', 'com.es', 'com.vn',
  'in-addr.arpa', 'ip6.arpa',
]);

/** The parts of a query name the detector looks at. */
export interface NameFeatures {
  /** Registered domain (or the answering zone), lower case, no trailing dot; "." for the root. */
  domain: string;
  /** Labels left of `domain`, joined with dots ("" when the name is the domain itself). */
  sub: string;
  /** Characters in `sub` without the dots. */
  subLength: number;
  /** Length of the leftmost label (0 when `sub` is empty). */
  firstLabelLength: number;
  /** Longest label in `sub`. */
  maxLabelLength: number;
  /** Shannon entropy of the characters of `sub` (bits per character). */
  entropy: number;
}

function lowerLabelsOf(qname: Name | string): readonly string[] {
  if (typeof qname !== 'string') return qname.lowerLabels;
  let t = qname.toLowerCase();
  if (t.endsWith('.')) t = t.slice(0, -1);
  return t.length === 0 ? [] : t.split('.');
}

/**
 * Splits a query name into registered domain and the part below it. When the query was answered
 * from one of our zones, that zone is the domain: a zone is exactly "who controls these names".
 */
export function nameFeatures(qname: Name | string, zone?: string): NameFeatures {
  if (typeof qname === 'string') return computeFeatures(qname, zone);
  // Names of precompiled answers come back as the same Name object query after query: their
  // features are kept with them (a WeakMap, so they go when the answer cache lets go).
  const memo = featureMemo.get(qname);
  if (memo !== undefined && memo.zone === zone) return memo.f;
  const f = computeFeatures(qname, zone);
  featureMemo.set(qname, { zone, f });
  return f;
}

const featureMemo = new WeakMap<Name, { zone: string | undefined; f: NameFeatures }>();

function computeFeatures(qname: Name | string, zone?: string): NameFeatures {
  const labels = lowerLabelsOf(qname);
  const n = labels.length;
  let keep: number;
  let domain: string | undefined;
  if (zone !== undefined && zone !== '' && zone !== '.') {
    const z = zoneDomain(zone);
    keep = Math.min(n, z.labels);
    if (keep === z.labels) domain = z.domain;
  } else if (n <= 2) {
    keep = n;
  } else {
    const last2 = labels[n - 2] + '.' + labels[n - 1];
    keep = MULTI_LABEL_SUFFIXES.has(last2) ? 3 : 2;
  }
  const subLabels = labels.slice(0, n - keep);
  domain ??= keep === 0 ? '.' : labels.slice(n - keep).join('.');
  let subLength = 0;
  let maxLabelLength = 0;
  for (const l of subLabels) {
    subLength += l.length;
    if (l.length > maxLabelLength) maxLabelLength = l.length;
  }
  return {
    domain,
    sub: subLabels.join('.'),
    subLength,
    firstLabelLength: subLabels.length > 0 ? subLabels[0]!.length : 0,
    maxLabelLength,
    entropy: subLabels.length > 0 ? shannonEntropy(subLabels) : 0,
  };
}

/**
 * The domain of the names answered from one zone: one string for all of them, so the detector,
 * which compares it with the last query's and looks its state up by it, compares one string
 * with itself (equal copies compare character by character) and hashes it once. The last zone
 * is kept: answers come in runs from one zone.
 */
let lastZone = '';
let lastZoneDomain = { domain: '', labels: 0 };

function zoneDomain(zone: string): { domain: string; labels: number } {
  if (zone === lastZone) return lastZoneDomain;
  let d = zone.toLowerCase();
  if (d.endsWith('.')) d = d.slice(0, -1);
  lastZone = zone;
  lastZoneDomain = { domain: d, labels: d.split('.').length };
  return lastZoneDomain;
}

const counts = new Int32Array(256);

/** Shannon entropy, in bits per character, of the bytes of the given labels taken together. */
export function shannonEntropy(labels: readonly string[]): number {
  let total = 0;
  const seen: number[] = [];
  for (const l of labels) {
    for (let i = 0; i < l.length; i++) {
      const c = l.charCodeAt(i) & 0xff;
      if (counts[c] === 0) seen.push(c);
      counts[c]!++;
      total++;
    }
  }
  let h = 0;
  for (const c of seen) {
    const p = counts[c]! / total;
    h -= p * Math.log2(p);
    counts[c] = 0;
  }
  return h;
}

/** Query types that carry data well in answers; tunnels prefer them (plus anything unusual). */
const COMMON_TYPES = new Set([1, 2, 6, 12, 15, 28, 33, 43, 48, 64, 65]);
// A, NS, SOA, PTR, MX, AAAA, SRV, DS, DNSKEY, SVCB, HTTPS
const TUNNEL_TYPES = new Set([5, 10, 16]); // CNAME, NULL, TXT

/** TXT, NULL, CNAME, or any type outside the everyday set (private-use types, ANY, ...). */
export function isTunnelType(qtype: number): boolean {
  return TUNNEL_TYPES.has(qtype) || !COMMON_TYPES.has(qtype);
}
