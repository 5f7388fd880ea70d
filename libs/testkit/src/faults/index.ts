export * from './fault.js';
export * from './backend-set.js';
export * from './tcp-proxy.js';
export * from './full-disk.js';
