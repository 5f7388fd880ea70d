export { loadTlsMaterial } from './load-tls-material.js';
export type { TlsMaterial, TlsMaterialOptions } from './load-tls-material.js';
