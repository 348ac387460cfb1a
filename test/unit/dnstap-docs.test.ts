// Every `dnstap:` YAML snippet in the docs validates against dnstapSchema and becomes sink options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { dnstapSchema, dnstapSinkOptions } from '../../src/monitor/dnstap.js';

for (const file of ['docs/monitoring.md', 'src/monitor/README.md']) {
  test(`dnstap snippets in ${file} are valid`, (t) => {
    const text = readFileSync(file, 'utf8');
    const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1]!) as Record<string, unknown>);
    const dnstap = blocks.filter((b) => b && typeof b === 'object' && 'dnstap' in b);
    assert.ok(dnstap.length > 0, 'has a dnstap snippet');
    for (const b of dnstap) {
      const c = dnstapSchema.parse(b.dnstap);
      const o = dnstapSinkOptions(c, '/etc/portcullis');
      assert.equal([o.socket, o.tcp, o.file].filter(Boolean).length, 1);
      assert.ok((o.types ?? []).length > 0, 'some events are enabled');
    }
    t.diagnostic(`${dnstap.length} dnstap snippets`);
  });
}
