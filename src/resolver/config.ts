import { isAbsolute, join } from 'node:path';
import type { ResolverOptions } from './resolver.js';
import { loadRootHints } from './root-hints.js';

/** The `resolver:` section of the config file (CONTRACT.md), keys as written there. */
export interface ResolverConfig {
  allow?: string[];
  'root-hints'?: string;
  'query-port'?: number;
  forward?: Array<{ zone: string; to: string[] }>;
  stub?: Array<{ zone: string; to: string[] }>;
  'qname-minimisation'?: boolean;
  'case-randomisation'?: boolean;
  ipv6?: boolean;
  cache?: {
    'max-ttl'?: number;
    'min-ttl'?: number;
    'max-negative-ttl'?: number;
    'max-size'?: number;
    'serve-stale'?: boolean;
    prefetch?: boolean;
  };
  limits?: { 'max-queries'?: number; 'max-ns-names'?: number; 'max-cname-chain'?: number; 'max-depth'?: number };
  dnssec?: 'validate' | 'off';
  'trust-anchors'?: string;
}

/**
 * Maps the config section to Resolver options. `allow` is not here: the server turns it into
 * the ResolverStep's allow function with its ACL code. Relative paths are relative to `baseDir`
 * (the config file's folder).
 */
export function resolverOptionsFromConfig(cfg: ResolverConfig = {}, baseDir = '.'): ResolverOptions {
  const opts: ResolverOptions = {};
  if (cfg['root-hints']) opts.rootHints = loadRootHints(isAbsolute(cfg['root-hints']) ? cfg['root-hints'] : join(baseDir, cfg['root-hints']));
  if (cfg['query-port'] !== undefined) opts.queryPort = cfg['query-port'];
  const forward = (cfg.forward ?? []).map((f) => ({ zone: f.zone, to: f.to, kind: 'forward' as const }));
  const stub = (cfg.stub ?? []).map((f) => ({ zone: f.zone, to: f.to, kind: 'stub' as const }));
  if (forward.length + stub.length > 0) opts.forward = [...forward, ...stub];
  if (cfg['qname-minimisation'] !== undefined) opts.qnameMinimisation = cfg['qname-minimisation'];
  if (cfg['case-randomisation'] !== undefined) opts.caseRandomisation = cfg['case-randomisation'];
  if (cfg.ipv6 !== undefined) opts.ipv6 = cfg.ipv6;
  const c = cfg.cache ?? {};
  opts.cache = {
    ...(c['max-ttl'] !== undefined ? { maxTtl: c['max-ttl'] } : {}),
    ...(c['min-ttl'] !== undefined ? { minTtl: c['min-ttl'] } : {}),
    ...(c['max-negative-ttl'] !== undefined ? { maxNegativeTtl: c['max-negative-ttl'] } : {}),
    ...(c['max-size'] !== undefined ? { maxBytes: c['max-size'] } : {}),
  };
  if (c['serve-stale'] !== undefined) opts.serveStale = c['serve-stale'];
  if (c.prefetch !== undefined) opts.prefetch = c.prefetch;
  const l = cfg.limits ?? {};
  opts.limits = {
    ...(l['max-queries'] !== undefined ? { maxQueries: l['max-queries'] } : {}),
    ...(l['max-ns-names'] !== undefined ? { maxNsNames: l['max-ns-names'] } : {}),
    ...(l['max-cname-chain'] !== undefined ? { maxCnameChain: l['max-cname-chain'] } : {}),
    ...(l['max-depth'] !== undefined ? { maxDepth: l['max-depth'] } : {}),
  };
  return opts;
}
