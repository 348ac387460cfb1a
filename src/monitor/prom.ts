import { createRequire } from 'node:module';

type PromClient = typeof import('prom-client');

let loaded: PromClient | undefined;

/**
 * prom-client, loaded the first time metrics are registered or scraped. With its OpenTelemetry
 * dependency it is about 85 modules, 40–80 ms of a server's start on one core; a server whose
 * metrics nobody reads never loads it, and one that serves them loads it after its zones are
 * up. It is CommonJS, so a synchronous require keeps every caller synchronous.
 */
export function promClient(): PromClient {
  return (loaded ??= createRequire(import.meta.url)('prom-client') as PromClient);
}

/** True once prom-client is loaded (tests check that serving alone does not load it). */
export function promClientLoaded(): boolean {
  return loaded !== undefined;
}
