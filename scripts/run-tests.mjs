#!/usr/bin/env node
// Runs one suite of compiled tests with node's test runner.
//   unit         every *.test.js under dist/src and dist/test/unit (Node only, no peers)
//   interop      dist/test/interop (needs the Debian peers: scripts/install-peers.sh)
//   conformance  dist/test/conformance (reads ../shared/conformance or $PORTCULLIS_CONFORMANCE)
// Extra arguments are substrings that select test files, e.g. `npm test -- name`.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const suites = {
  unit: ['dist/src', 'dist/test/unit'],
  interop: ['dist/test/interop'],
  conformance: ['dist/test/conformance'],
};
const [suite, ...filters] = process.argv.slice(2);
if (!suites[suite]) {
  console.error(`usage: run-tests.mjs ${Object.keys(suites).join('|')} [filter...]`);
  process.exit(2);
}

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries.sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (e.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = suites[suite]
  .flatMap((d) => walk(d, []))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`run-tests: no test files for suite "${suite}"`);
  process.exit(1);
}
console.log(`run-tests: ${suite}: ${files.length} files`);
// A hang guard, not a speed limit: a test still running after 10 minutes fails (and says so)
// instead of holding the suite, and CI, until an outer limit kills it; far longer than any test
// takes. PORTCULLIS_TEST_TIMEOUT_MS changes it (0: none).
const timeoutMs = Number(process.env.PORTCULLIS_TEST_TIMEOUT_MS ?? 600_000);
const args = ['--test', '--test-reporter=spec', ...(timeoutMs > 0 ? [`--test-timeout=${timeoutMs}`] : []), ...files.map((f) => relative(process.cwd(), f))];
const res = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(res.status ?? 1);
