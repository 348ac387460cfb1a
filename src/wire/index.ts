// The wire layer: names, messages, record codecs, EDNS. Imports nothing else of ours.
export * from './constants.js';
export * from './errors.js';
export * from './name.js';
export * from './reader.js';
export * from './writer.js';
export * from './tokens.js';
export * from './record.js';
export * from './edns.js';
export * from './message.js';
export * from './rdata/index.js';
