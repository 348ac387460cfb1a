#!/usr/bin/env node
// Writes docs/config.md from the config schema. Run after `npm run build`:
//   node scripts/gen-config-doc.mjs [BUILD_DIR]     (BUILD_DIR default: dist)
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const build = resolve(process.argv[2] ?? 'dist');
const { renderConfigDoc } = await import(pathToFileURL(resolve(build, 'src/server/config-doc.js')).href);
writeFileSync('docs/config.md', renderConfigDoc());
console.log('wrote docs/config.md');
