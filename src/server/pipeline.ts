// Steps grouped in the fixed phases of DESIGN.md, composed once into one Handler.
import { EdeCode, Rcode } from '../wire/index.js';
import { PHASES, type Handler, type Next, type Phase, type Reply, type Request, type Step } from '../transport/handler.js';
import { SLOW, type FastHandler, type FastNext, type FastResult } from '../transport/fast.js';
import { makeResponse } from './response.js';

/**
 * The last link: nobody answered. REFUSED with EDE 18 (Prohibited) when the client asked for
 * recursion it may not have, else EDE 20 (Not Authoritative).
 */
export class RefuseStep implements Step {
  readonly name = 'refuse';
  readonly phase = 'answer' as const;
  async handle(req: Request): Promise<Reply> {
    const q = req.message;
    const ede = q.rd && !req.state.recursionAllowed
      ? { infoCode: EdeCode.PROHIBITED, text: 'recursion not available' }
      : { infoCode: EdeCode.NOT_AUTHORITATIVE, text: 'not authoritative' };
    return { message: makeResponse(q, Rcode.REFUSED, ede), reason: 'refused' };
  }
}

/**
 * Orders steps by phase (config order inside a phase) and composes them once.
 *
 * accept → route → policy → answer run first to last: each step answers or calls `next`;
 * after the last answer step comes `terminal` (REFUSED). Finalize steps wrap that whole chain:
 * they call `next` and post-process the reply, so they see every reply, including one an accept
 * step made. The first finalize step post-processes first (it is the innermost wrapper), so put
 * the FrontStep (EDNS, size, encoding) first and metrics/logging after it.
 */
export function composePipeline(steps: readonly Step[], terminal: Step = new RefuseStep()): Handler {
  const ordered = orderSteps(steps);
  const inner = ordered.filter((s) => s.phase !== 'finalize');
  const finalize = ordered.filter((s) => s.phase === 'finalize');
  let next: Next = (req) => terminal.handle(req, refuseAfterTerminal);
  for (let i = inner.length - 1; i >= 0; i--) next = link(inner[i]!, next);
  for (const step of finalize) next = link(step, next);
  return next;
}

/**
 * The synchronous twin of composePipeline for the UDP fast path, in the same order; where
 * nothing answered, SLOW (the refusal is built by the pipeline). Undefined when a step has no
 * `fast` method (dnstap, steps added by tests): then every query takes the pipeline.
 */
export function composeFastPath(steps: readonly Step[]): FastHandler | undefined {
  const ordered = orderSteps(steps);
  if (ordered.some((s) => typeof s.fast !== 'function')) return undefined;
  const inner = ordered.filter((s) => s.phase !== 'finalize');
  const finalize = ordered.filter((s) => s.phase === 'finalize');
  let next: FastNext = slowTerminal;
  for (let i = inner.length - 1; i >= 0; i--) next = linkFast(inner[i]!, next);
  for (const step of finalize) next = linkFast(step, next);
  return next;
}

const slowTerminal: FastNext = (): FastResult => SLOW;

function linkFast(step: Step, next: FastNext): FastNext {
  return (q) => step.fast!(q, next);
}

function link(step: Step, next: Next): Next {
  // One closure per step at compose time, none per query.
  return (req) => step.handle(req, next);
}

const refuseAfterTerminal: Next = async () => ({ drop: true, reason: 'no-answer' });

/** Steps sorted by phase, stable inside a phase. */
export function orderSteps(steps: readonly Step[]): Step[] {
  for (const s of steps) if (!PHASES.includes(s.phase)) throw new Error(`step "${s.name}" has unknown phase "${s.phase}"`);
  return [...steps].sort((a, b) => PHASES.indexOf(a.phase) - PHASES.indexOf(b.phase));
}

/** The chain as text, for `check-config --explain`. */
export function describePipeline(steps: readonly Step[], terminal: Step = new RefuseStep()): string {
  const ordered = orderSteps(steps);
  const lines: string[] = [];
  for (const phase of PHASES) {
    const names = ordered.filter((s) => s.phase === phase).map((s) => s.name);
    if (phase === 'answer') names.push(`${terminal.name} (when nothing answered)`);
    lines.push(`${phase.padEnd(9)} ${names.length ? names.join(' → ') : '-'}`);
  }
  return lines.join('\n');
}

export type { Phase };
