// The monitor: metrics, live stats, query log and abuse detection (see README.md).
export * from './types.js';
export * from './config.js';
export * from './features.js';
export * from './privacy.js';
export * from './allow.js';
export * from './window.js';
export * from './detector.js';
export * from './metrics.js';
export * from './query-log.js';
export * from './monitor.js';
export * from './resolver-metrics.js';
