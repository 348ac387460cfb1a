// The authoritative engine: answers from compiled zones (see README.md).
export * from './lookup.js';
export * from './zone-set.js';
export * from './step.js';
export * from './any.js';
