// Runs PowerDNS's authoritative regression tests (the `sdig` kind) against a server: each
// query exactly as the upstream `cleandig` does it (`sdig IP PORT QNAME QTYPE [flags] |
// LC_ALL=C sort`, then the test's own post-processing), and the concatenated output compared
// byte for byte with `expected_result`, as the upstream runner's `diff` does.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ManifestQuery {
  readonly qname: string;
  readonly qtype: string;
  readonly flags: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** A shell pipeline tail, e.g. "| tail -n2". */
  readonly postprocess?: string;
}

export interface ManifestTest {
  readonly name: string;
  readonly kind: 'sdig' | 'sdig+postprocess' | 'complex';
  readonly queries: readonly ManifestQuery[];
  readonly files: readonly string[];
  readonly description?: string;
}

export interface Manifest {
  readonly tests: readonly ManifestTest[];
}

export function readManifest(suiteDir: string): Manifest {
  const m = JSON.parse(readFileSync(join(suiteDir, 'manifest.json'), 'utf8')) as Manifest;
  return { ...m, tests: m.tests.map((t) => ({ ...t, queries: t.queries.map(unsplitQuoted) })) };
}

/**
 * The manifest was derived from shell lines by splitting on blanks, so a quoted qname with a
 * space (space-name: `'space name'.example.com A dnssec`) arrives as qname "'space", qtype
 * "name'.example.com". Joins such a split back: the shell would pass `space name.example.com`.
 */
export function unsplitQuoted(q: ManifestQuery): ManifestQuery {
  if (!q.qname.startsWith("'") || q.qname.indexOf("'", 1) >= 0 || !q.qtype.includes("'") || q.flags.length === 0) return q;
  const qname = `${q.qname} ${q.qtype}`.replace(/'/g, '');
  return { ...q, qname, qtype: q.flags[0]!, flags: q.flags.slice(1) };
}

/** PASS/FAIL/SKIP per test from one of PowerDNS's own reference runs. */
export function readReferenceRun(suiteDir: string, context: 'nodnssec' | 'nsec' | 'nsec3'): Map<string, string> {
  const text = readFileSync(join(suiteDir, 'reference-run-pdns-4.7.3', `results-${context}.txt`), 'utf8');
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(PASS|FAIL|SKIP)\s+(\S+)/.exec(line);
    if (m) out.set(m[2]!, m[1]!);
  }
  return out;
}

/**
 * The tests this suite runs: the `sdig` kinds that PowerDNS itself runs and passes in its
 * unsigned context (bind backend, no DNSSEC), with at least one query.
 */
export function selectUnsignedSdigTests(manifest: Manifest, reference: Map<string, string>): ManifestTest[] {
  return manifest.tests.filter((t) => t.kind !== 'complex' && t.queries.length > 0 && reference.get(t.name) === 'PASS');
}

/** `zone "NAME" { ... file "FILE"; }` pairs from a BIND-style named.conf. */
export function zonesFromNamedConf(text: string): Array<{ name: string; file: string }> {
  const out: Array<{ name: string; file: string }> = [];
  const re = /zone\s+"([^"]+)"\s*\{([^}]*)\}/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const file = /file\s+"([^"]+)"/.exec(m[2]!);
    if (file) out.push({ name: m[1]!, file: file[1]! });
  }
  return out;
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The shell line for one query, as upstream's cleandig builds it. */
export function cleandigCommand(address: string, port: number, q: ManifestQuery): string {
  const args = q.qtype.toUpperCase() === 'AXFR'
    ? ['saxfr', address, String(port), q.qname, ...q.flags]
    : ['sdig', address, String(port), q.qname, q.qtype, ...q.flags];
  return `${args.map(shellQuote).join(' ')} | LC_ALL=C sort ${q.postprocess ?? ''}`;
}

export interface TestOutcome {
  readonly name: string;
  readonly pass: boolean;
  readonly actual: string;
  readonly expected: string;
}

/**
 * Runs one test's queries in order and compares with `tests/NAME/expected_result` (or
 * `expectedPath`, e.g. a `.dnssec` variant).
 */
export function runRegressionTest(suiteDir: string, test: ManifestTest, address: string, port: number, expectedPath?: string): TestOutcome {
  let actual = '';
  for (const q of test.queries) {
    const res = spawnSync('/bin/sh', ['-c', cleandigCommand(address, port, q)], {
      env: { ...process.env, ...q.env, LC_ALL: 'C' }, encoding: 'utf8', timeout: 20000,
    });
    if (res.error) throw new Error(`${test.name}: ${res.error.message}`);
    actual += res.stdout;
  }
  const file = expectedPath ?? join(suiteDir, 'tests', test.name, 'expected_result');
  const expected = existsSync(file) ? readFileSync(file, 'utf8') : '';
  return { name: test.name, pass: actual === expected, actual, expected };
}

/** A short unified-style diff of two outputs (lines only in one side), for reports. */
export function lineDiff(expected: string, actual: string): string {
  const e = expected.split('\n').filter(Boolean);
  const a = actual.split('\n').filter(Boolean);
  const ea = new Set(a);
  const ee = new Set(e);
  return [...e.filter((l) => !ea.has(l)).map((l) => `- ${l}`), ...a.filter((l) => !ee.has(l)).map((l) => `+ ${l}`)].join('\n');
}
