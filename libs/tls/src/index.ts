export { loadTlsMaterial, watchTlsMaterial } from './load-tls-material.js';
export type { TlsMaterial, TlsMaterialOptions, TlsMaterialWatch } from './load-tls-material.js';
