// DNSSEC primitives: key tags, DS digests, canonical signing data, signature creation and
// verification, NSEC3 hashing. Validation policy (chains of trust) and zone signing build on these.
export * from './types.js';
export * from './keytag.js';
export * from './ds.js';
export * from './canonical.js';
export * from './crypto.js';
export * from './verify.js';
export * from './sign.js';
export * from './nsec3.js';
