// Importing this module registers every record codec.
import './basic.js';
import './opt.js';
import './types.js';
import './special.js';
import './svcb.js';

export * from './codec.js';
export * from './address.js';
export * from './basic.js';
export * from './encoding.js';
export * from './mnemonics.js';
export * from './fields.js';
export * from './types.js';
export * from './special.js';
export * from './svcb.js';
