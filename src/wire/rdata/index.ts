// Importing this module registers every record codec.
import './basic.js';
import './opt.js';

export * from './codec.js';
export * from './address.js';
export * from './basic.js';
