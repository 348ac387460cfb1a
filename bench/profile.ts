// Summarises a V8 CPU profile (`node --cpu-prof`): self time per function, highest first.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  /** "function (file:line)", or "(program)", "(garbage collector)", ... */
  where: string;
  /** Share of all samples, 0..1. */
  share: number;
}

export function summariseProfile(profile: CpuProfile, top = 15): HotSpot[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const n = byId.get(profile.samples[i]!);
    if (!n) continue;
    const dt = profile.timeDeltas[i] ?? 0;
    const f = n.callFrame;
    const file = f.url ? f.url.replace(/^.*\/(dist|\.build\/[^/]+)\//, '').replace(/^node:/, 'node:') : '';
    const key = file ? `${f.functionName || '(anonymous)'} (${file}:${f.lineNumber + 1})` : f.functionName || '(anonymous)';
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([where, t]) => ({ where, share: total ? t / total : 0 }));
}

export function summariseProfileFile(path: string, top = 15): HotSpot[] {
  return summariseProfile(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile, top);
}

const isMain = process.argv[1]?.endsWith('profile.js');
if (isMain) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node dist/bench/profile.js FILE.cpuprofile [TOP]');
    process.exit(1);
  }
  for (const h of summariseProfileFile(file, Number(process.argv[3] ?? 25))) console.log(`${(h.share * 100).toFixed(1).padStart(5)}%  ${h.where}`);
}
