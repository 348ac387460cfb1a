// Every YAML snippet in the monitor docs parses and validates against the monitor's schemas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { detectionSchema, monitorSchema, queryLogSchema } from '../../src/monitor/index.js';

for (const file of ['docs/monitoring.md', 'src/monitor/README.md', 'src/control/README.md']) {
  test(`config snippets in ${file} are valid`, () => {
    const text = readFileSync(file, 'utf8');
    const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(blocks.length > 0, 'has a snippet');
    for (const b of blocks) {
      const doc = parse(b) as Record<string, unknown>;
      if ('monitor' in doc) monitorSchema.parse(doc.monitor);
      if ('query-log' in doc) queryLogSchema.parse(doc['query-log']);
      if ('detection' in doc) detectionSchema.parse(doc.detection);
      if ('control' in doc) assert.match(String((doc.control as { listen: string }).listen), /:\d+$/);
    }
  });
}
