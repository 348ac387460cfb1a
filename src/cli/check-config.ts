// `portcullis check-config FILE [--explain]`
import { ConfigError, formatIssue, loadConfig } from '../server/config.js';
import { describePipeline } from '../server/pipeline.js';
import { configuredStepNames } from '../server/wiring.js';
import { selfAudit } from '../server/self-audit.js';
import type { Step } from '../transport/handler.js';

export interface Out {
  write(s: string): unknown;
}

/** Validates a config file: each problem as `FILE:LINE:COL: message` on stderr; returns 0 or 1. */
export async function checkConfigCommand(file: string, opts: { explain?: boolean }, out: { stdout: Out; stderr: Out }): Promise<number> {
  try {
    const c = await loadConfig(file);
    out.stdout.write(`${file}: OK (${c.listen.length} listen address${c.listen.length === 1 ? '' : 'es'}, ${c.zones.length} zone${c.zones.length === 1 ? '' : 's'})\n`);
    const audit = selfAudit(c);
    for (const w of audit.warnings) out.stderr.write(`${file}: warning (${w.check}): ${w.message}\n`);
    if (opts.explain) {
      // The chain as `serve` composes it for this config (wiring.ts).
      const steps: Step[] = configuredStepNames(c).map((s) => ({ ...s, handle: async () => ({ drop: true }) }));
      out.stdout.write(describePipeline(steps) + '\n');
    }
    if (audit.fatal) {
      out.stderr.write(`${file}: error (${audit.fatal.check}): ${audit.fatal.message}\n`);
      return 1;
    }
    return 0;

  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const i of e.issues) out.stderr.write(formatIssue(i) + '\n');
    out.stderr.write(`${e.issues.length} error${e.issues.length === 1 ? '' : 's'}\n`);
    return 1;
  }
}
