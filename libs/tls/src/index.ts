export { loadTlsMaterial, reloadTlsOnRenewal, watchTlsMaterial } from './load-tls-material.js';
export type { TlsListener, TlsMaterial, TlsMaterialOptions, TlsMaterialWatch } from './load-tls-material.js';
