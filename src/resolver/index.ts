// The recursive resolver: cache, iteration, forwarding, and its pipeline step.
export * from './types.js';
export * from './cache.js';
export * from './answer-cache.js';
export * from './servers.js';
export * from './root-hints.js';
export * from './upstream.js';
export * from './iterate.js';
export * from './resolver.js';
export * from './step.js';
export * from './config.js';
export { FakeUpstream } from './fake-upstream.js';
