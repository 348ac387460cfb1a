// Where the repository and the shared conformance data are, from a compiled test file.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file with portcullis's package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'portcullis') return dir;
      } catch { /* not ours */ }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root (package.json of portcullis) not found above the test file');
    dir = up;
  }
}

/** $PORTCULLIS_CONFORMANCE, else `../shared/conformance` next to the repository. */
export function conformanceDir(): string {
  return resolve(process.env.PORTCULLIS_CONFORMANCE ?? join(repoRoot(), '..', 'shared', 'conformance'));
}
