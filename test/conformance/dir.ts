import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The third-party conformance data: `$PORTCULLIS_CONFORMANCE`, or `../shared/conformance` beside
 * the repository. It is never copied into the repository (its licences are its own).
 */
export function conformanceDir(): string {
  const root = repoRoot();
  const env = process.env.PORTCULLIS_CONFORMANCE;
  if (env) return resolve(env);
  const dir = join(root, '..', 'shared', 'conformance');
  if (!existsSync(dir)) throw new Error(`conformance data not found at ${dir}; set PORTCULLIS_CONFORMANCE`);
  return dir;
}

/** The repository root: the nearest folder above this file holding package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}
