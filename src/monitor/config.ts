import { z } from 'zod';
import { FINDING_TYPES, type Action, type FindingType } from './types.js';

/**
 * Config keys of the monitor (the server's schema embeds these three objects):
 *
 * ```yaml
 * monitor:
 *   client-privacy: full        # full | truncate | hash (logs, alerts, API)
 *   top: 10                     # how many top clients/domains /api/stats lists
 * query-log:
 *   mode: off                   # on | sampled | off
 *   sample-rate: 0.01           # share of queries logged when sampled
 * detection:
 *   enabled: true
 *   window: 60                  # seconds of history each score looks at
 *   thresholds: { tunneling: 0.6 }
 *   actions: { tunneling: block, random-subdomain: throttle }   # alert | throttle | block
 *   action-duration: 600        # seconds a throttle or block lasts after the last finding
 *   throttle-rate: 2            # queries per second still answered while throttled
 *   allow: [backup.example.com, 192.0.2.0/24]
 * ```
 */
const privacy = z.enum(['full', 'truncate', 'hash']);
const action = z.enum(['alert', 'throttle', 'block']);
const score = z.number().min(0).max(1);

export const monitorSchema = z.strictObject({
  'client-privacy': privacy.default('full'),
  /** Key for `hash` privacy; a random one per process when absent (hashes then change on restart). */
  'hash-key': z.string().min(8).optional(),
  top: z.number().int().min(1).max(100).default(10),
});

export const queryLogSchema = z.strictObject({
  mode: z.union([z.enum(['on', 'sampled', 'off']), z.boolean().transform((b) => (b ? 'on' : 'off'))]).default('off'),
  'sample-rate': z.number().gt(0).max(1).default(0.01),
  /** Overrides monitor.client-privacy for the query log only. */
  'client-privacy': privacy.optional(),
});

const perFinding = <T extends z.ZodType>(t: T) =>
  z.strictObject(Object.fromEntries(FINDING_TYPES.map((f) => [f, t.optional()])) as Record<FindingType, z.ZodOptional<T>>);

export const detectionSchema = z.strictObject({
  enabled: z.boolean().default(true),
  window: z.number().int().min(10).max(3600).default(60),
  thresholds: perFinding(score).default({}),
  actions: perFinding(action).default({}),
  'action-duration': z.number().int().min(1).max(86400).default(600),
  'throttle-rate': z.number().min(0).max(1000).default(2),
  allow: z.array(z.string().min(1)).default([]),
  /** Upper bounds on tracked state, so a flood of new sources cannot grow memory without bound. */
  'max-tracked': z.number().int().min(100).max(10_000_000).default(100_000),
});

export type MonitorConfigInput = z.input<typeof monitorSchema>;
export type QueryLogConfigInput = z.input<typeof queryLogSchema>;
export type DetectionConfigInput = z.input<typeof detectionSchema>;

export const DEFAULT_THRESHOLDS: Record<FindingType, number> = {
  tunneling: 0.6,
  exfiltration: 0.6,
  'random-subdomain': 0.6,
  beaconing: 0.6,
  amplification: 0.5,
};

/** Resolved detection settings, every default filled in. */
export interface DetectionSettings {
  enabled: boolean;
  windowMs: number;
  thresholds: Record<FindingType, number>;
  actions: Record<FindingType, Action>;
  actionDurationMs: number;
  throttleRate: number;
  allow: string[];
  maxTracked: number;
}

export function detectionSettings(input: DetectionConfigInput = {}): DetectionSettings {
  const c = detectionSchema.parse(input);
  const thresholds = { ...DEFAULT_THRESHOLDS };
  const actions = Object.fromEntries(FINDING_TYPES.map((f) => [f, 'alert'])) as Record<FindingType, Action>;
  for (const f of FINDING_TYPES) {
    const t = c.thresholds[f];
    if (t !== undefined) thresholds[f] = t;
    const a = c.actions[f];
    if (a !== undefined) actions[f] = a;
  }
  return {
    enabled: c.enabled,
    windowMs: c.window * 1000,
    thresholds,
    actions,
    actionDurationMs: c['action-duration'] * 1000,
    throttleRate: c['throttle-rate'],
    allow: c.allow,
    maxTracked: c['max-tracked'],
  };
}
