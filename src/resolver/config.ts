import { isAbsolute, join } from 'node:path';
import { loadTrustAnchorFile } from '../dnssec/rfc5011.js';
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
    'bogus-ttl'?: number;
    /** RFC 8767 client response timer in ms (1800); 0: stale data only after a failure. */
    'stale-client-timeout'?: number;
  };
  /** RFC 8109 root priming (true). */
  'prime-root'?: boolean;
  /** RFC 8198 aggressive use of validated NSEC/NSEC3 (true). */
  'aggressive-nsec'?: boolean;
  /** RFC 8020 NXDOMAIN cut (true). */
  'nxdomain-cut'?: boolean;
  limits?: {
    'max-queries'?: number; 'max-ns-names'?: number; 'max-cname-chain'?: number; 'max-depth'?: number;
    'max-keys-per-tag'?: number; 'max-signatures'?: number; 'max-validations'?: number; 'max-nsec3-iterations'?: number;
  };
  dnssec?: 'validate' | 'off';
  'trust-anchors'?: string;
  /** RFC 7646: `until` is an ISO 8601 time or seconds since the epoch; absent: until removed. */
  'negative-trust-anchors'?: Array<{ name: string; until?: string | number }>;
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
  if (c['stale-client-timeout'] !== undefined) opts.staleClientTimeout = c['stale-client-timeout'];
  if (cfg['prime-root'] !== undefined) opts.primeRoot = cfg['prime-root'];
  if (cfg['aggressive-nsec'] !== undefined) opts.aggressiveNsec = cfg['aggressive-nsec'];
  if (cfg['nxdomain-cut'] !== undefined) opts.nxdomainCut = cfg['nxdomain-cut'];
  if (cfg.dnssec !== undefined) {
    if (cfg.dnssec !== 'validate' && cfg.dnssec !== 'off') throw new RangeError(`resolver.dnssec: expected validate or off, not ${String(cfg.dnssec)}`);
    opts.dnssec = cfg.dnssec;
  }
  // A file marked `; rfc5011: managed` is tracked by RFC 5011 (state in FILE.state).
  if (cfg['trust-anchors']) opts.trustAnchors = loadTrustAnchorFile(isAbsolute(cfg['trust-anchors']) ? cfg['trust-anchors'] : join(baseDir, cfg['trust-anchors']));
  if (cfg['negative-trust-anchors']) {
    opts.negativeTrustAnchors = cfg['negative-trust-anchors'].map((n, i) => {
      if (typeof n.until === 'number') return { name: n.name, until: n.until * 1000 };
      if (n.until === undefined) return { name: n.name };
      const t = Date.parse(n.until);
      if (Number.isNaN(t)) throw new RangeError(`resolver.negative-trust-anchors[${i}].until: not a time: ${n.until}`);
      return { name: n.name, until: t };
    });
  }
  if (c['bogus-ttl'] !== undefined) opts.bogusTtl = c['bogus-ttl'];
  const l = cfg.limits ?? {};
  opts.validation = {
    ...(l['max-keys-per-tag'] !== undefined ? { maxKeysPerTag: l['max-keys-per-tag'] } : {}),
    ...(l['max-signatures'] !== undefined ? { maxSigsPerRrset: l['max-signatures'] } : {}),
    ...(l['max-validations'] !== undefined ? { maxValidations: l['max-validations'] } : {}),
    ...(l['max-nsec3-iterations'] !== undefined ? { maxNsec3Iterations: l['max-nsec3-iterations'] } : {}),
  };
  opts.limits = {
    ...(l['max-queries'] !== undefined ? { maxQueries: l['max-queries'] } : {}),
    ...(l['max-ns-names'] !== undefined ? { maxNsNames: l['max-ns-names'] } : {}),
    ...(l['max-cname-chain'] !== undefined ? { maxCnameChain: l['max-cname-chain'] } : {}),
    ...(l['max-depth'] !== undefined ? { maxDepth: l['max-depth'] } : {}),
  };
  return opts;
}
