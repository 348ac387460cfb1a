import type { DetectionConfigInput } from '../config.js';
import { Detector } from '../detector.js';
import { nameFeatures } from '../features.js';
import type { Alert, FindingType } from '../types.js';
import type { EpisodeKind, Traffic } from './generator.js';

/** Detection and false-positive numbers from replaying labelled traffic through a detector. */
export interface Evaluation {
  events: number;
  normalEvents: number;
  episodes: number;
  detected: number;
  /** Detected episodes over all episodes. */
  detectionRate: number;
  byKind: Record<string, { episodes: number; detected: number; medianSecondsToDetect: number | null }>;
  missed: { kind: EpisodeKind; domain: string; params: Record<string, number | string> }[];
  /** Normal (client, registered domain) pairs with an alert naming them, over all normal pairs. */
  normalPairs: number;
  falsePositivePairs: number;
  falsePositiveRate: number;
  /** Normal clients with any alert naming them. */
  falsePositiveClients: number;
  /** Alerts that do not belong to any episode. */
  falseAlerts: { type: FindingType; domain: string; client: string; score: number }[];
  /** With every action set to block: normal queries refused, and attack queries refused. */
  normalRefused: number;
  normalRefusedRate: number;
  attackRefused: number;
  attackEvents: number;
}

/**
 * Replays `traffic` in virtual time: for every event `decide` is asked first (as the pipeline
 * would), then `observe`. Actions are set to block so that collateral damage is measured too.
 */
export function evaluate(traffic: Traffic, detection: DetectionConfigInput = {}): Evaluation {
  let now = traffic.start;
  const raised: Alert[] = [];
  const actions = { tunneling: 'block', exfiltration: 'block', 'random-subdomain': 'throttle', beaconing: 'block', amplification: 'throttle' } as const;
  const det = new Detector({
    detection: { ...detection, actions: { ...actions, ...(detection.actions ?? {}) } },
    clock: () => now,
    onAlert: (a, fresh) => { if (fresh) raised.push(a); },
  });
  let normalEvents = 0;
  let normalRefused = 0;
  let attackRefused = 0;
  const normalPairs = new Set<string>();
  for (const e of traffic.events) {
    now = e.time;
    const refused = det.decide(e.client, e.qname) !== undefined;
    if (e.episode < 0) {
      normalEvents++;
      if (refused) normalRefused++;
      normalPairs.add(e.client + '|' + nameFeatures(e.qname).domain);
    } else if (refused) attackRefused++;
    det.observe(e);
  }
  const attackEvents = traffic.events.length - normalEvents;

  // Which alerts belong to which episode.
  const episodeOf = (a: Alert): number => {
    for (const ep of traffic.episodes) {
      if (a.type === 'amplification') {
        if (ep.kind === 'amplification' && ep.clients.includes(a.client)) return ep.id;
      } else if (a.domain === ep.domain) return ep.id;
    }
    return -1;
  };
  const firstDetection = new Map<number, number>();
  const falseAlerts: Evaluation['falseAlerts'] = [];
  const fpPairs = new Set<string>();
  const fpClients = new Set<string>();
  const normal = new Set(traffic.normalClients);
  for (const a of raised) {
    const id = episodeOf(a);
    if (id >= 0 && traffic.episodes[id]!.expected === a.type) {
      if (!firstDetection.has(id)) firstDetection.set(id, a.first);
    }
    if (id < 0) falseAlerts.push({ type: a.type, domain: a.domain, client: a.client, score: a.score });
    if (normal.has(a.client)) {
      fpClients.add(a.client);
      if (a.type === 'amplification') {
        for (const p of normalPairs) if (p.startsWith(a.client + '|')) fpPairs.add(p);
      } else if (normalPairs.has(a.client + '|' + a.domain)) fpPairs.add(a.client + '|' + a.domain);
    }
    if (a.client === '*' && id < 0) {
      for (const p of normalPairs) if (p.endsWith('|' + a.domain)) fpPairs.add(p);
    }
  }

  const byKind: Evaluation['byKind'] = {};
  const missed: Evaluation['missed'] = [];
  for (const ep of traffic.episodes) {
    const k = (byKind[ep.kind] ??= { episodes: 0, detected: 0, medianSecondsToDetect: null });
    k.episodes++;
    if (firstDetection.has(ep.id)) k.detected++;
    else missed.push({ kind: ep.kind, domain: ep.domain, params: ep.params });
  }
  for (const kind of Object.keys(byKind)) {
    const delays = traffic.episodes
      .filter((ep) => ep.kind === kind && firstDetection.has(ep.id))
      .map((ep) => (firstDetection.get(ep.id)! - ep.start) / 1000)
      .sort((a, b) => a - b);
    byKind[kind]!.medianSecondsToDetect = delays.length ? Math.round(delays[Math.floor(delays.length / 2)]! * 10) / 10 : null;
  }
  const detected = firstDetection.size;
  return {
    events: traffic.events.length,
    normalEvents,
    episodes: traffic.episodes.length,
    detected,
    detectionRate: traffic.episodes.length ? detected / traffic.episodes.length : 1,
    byKind,
    missed,
    normalPairs: normalPairs.size,
    falsePositivePairs: fpPairs.size,
    falsePositiveRate: normalPairs.size ? fpPairs.size / normalPairs.size : 0,
    falsePositiveClients: fpClients.size,
    falseAlerts,
    normalRefused,
    normalRefusedRate: normalEvents ? normalRefused / normalEvents : 0,
    attackRefused,
    attackEvents,
  };
}
