export * from './backends.js';
export * from './dns-server.js';
export * from './all-in-one-process.js';
export * from './data-dir.js';
export * from './eventually.js';
export * from './free-port.js';
export * from './mail-clients.js';
export * from './spawned.js';
