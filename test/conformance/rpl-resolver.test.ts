// Scripted-upstream resolver scenarios from Deckard and Unbound (.rpl), run with no network
// and virtual time. Reports pass/fail/skip per set and fails if fewer pass than the baseline.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseScenario, runScenario, type Outcome } from './rpl/index.js';

process.env.PORTCULLIS_TEST_LOOPBACK_ONLY = '1';

function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return d;
}

const corpus = process.env.PORTCULLIS_CONFORMANCE ?? resolve(repoRoot(), '../shared/conformance');

/** Pass counts reached so far: a regression below them fails the test. */
const BASELINE: Record<string, number> = {
  'deckard-resolver': 124,
  'unbound-testdata/rpl': 69,
};

/** Pass counts of the DNSSEC scenarios (val_*, nsec*) among them. */
const DNSSEC_BASELINE: Record<string, number> = {
  'deckard-resolver': 85,
  'unbound-testdata/rpl': 35,
};

function isDnssecScenario(file: string): boolean {
  return file.startsWith('val_') || file.startsWith('nsec');
}

/** iter_* first, then the rest, each alphabetical. */
function scenarioFiles(dir: string): string[] {
  const all = readdirSync(dir).filter((f) => f.endsWith('.rpl')).sort();
  return [...all.filter((f) => f.startsWith('iter_')), ...all.filter((f) => !f.startsWith('iter_'))];
}

async function runOne(path: string): Promise<Outcome> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { status: 'fail', reason: `unreadable: ${(e as Error).message}` };
  }
  try {
    const scn = parseScenario(text, path);
    // A safety net only: scenarios run on virtual time and a scripted upstream, so they
    // finish in milliseconds; this turns a hang into a reported failure.
    let timer: NodeJS.Timeout | undefined;
    const guard = new Promise<Outcome>((r) => {
      timer = setTimeout(() => r({ status: 'fail', reason: 'did not finish (hang)' }), 20_000);
    });
    const out = await Promise.race([runScenario(scn), guard]);
    clearTimeout(timer);
    return out;
  } catch (e) {
    const msg = (e as Error).message;
    if (/bad record|unexpected line|without ENTRY_END/.test(msg)) return { status: 'skip', reason: `needs record syntax we do not parse: ${msg.split('\n')[0]}` };
    return { status: 'fail', reason: `error: ${msg}` };
  }
}

for (const set of Object.keys(BASELINE)) {
  test(`rpl scenarios: ${set}`, async (t) => {
    const dir = join(corpus, set);
    if (!existsSync(dir)) {
      if (process.env.CI === 'true') assert.fail(`conformance data missing: ${dir}`);
      t.skip(`conformance data not found at ${dir}`);
      return;
    }
    const counts = { pass: 0, fail: 0, skip: 0 };
    const iter = { pass: 0, fail: 0, skip: 0 };
    const val = { pass: 0, fail: 0, skip: 0 };
    const failed: string[] = [];
    const skipped = new Map<string, string[]>();
    for (const f of scenarioFiles(dir)) {
      const out = await runOne(join(dir, f));
      counts[out.status]++;
      if (f.startsWith('iter_')) iter[out.status]++;
      if (isDnssecScenario(f)) val[out.status]++;
      if (out.status === 'fail') failed.push(`${f}: ${out.reason}`);
      if (out.status === 'skip') skipped.set(out.reason, [...(skipped.get(out.reason) ?? []), f]);
    }
    t.diagnostic(`${set}: ${counts.pass} passed, ${counts.fail} failed, ${counts.skip} skipped (iter_*: ${iter.pass} passed, ${iter.fail} failed, ${iter.skip} skipped; val_*/nsec*: ${val.pass} passed, ${val.fail} failed, ${val.skip} skipped)`);
    for (const f of failed) t.diagnostic(`FAIL ${f}`);
    for (const [reason, files] of skipped) t.diagnostic(`SKIP (${files.length}) ${reason}: ${files.join(' ')}`);
    assert.ok(counts.pass >= BASELINE[set]!, `${set}: ${counts.pass} scenarios pass, fewer than the baseline ${BASELINE[set]}`);
    assert.ok(val.pass >= DNSSEC_BASELINE[set]!, `${set}: ${val.pass} val_*/nsec* scenarios pass, fewer than the baseline ${DNSSEC_BASELINE[set]}`);
  });
}
