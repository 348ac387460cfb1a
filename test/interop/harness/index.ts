// Helpers for interop and differential tests against real DNS daemons on loopback.
export * from './query.js';
export * from './compare.js';
export * from './peers.js';
