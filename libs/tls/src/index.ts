export { loadTlsMaterial } from './load-tls-material.js';
export type { TlsMaterial, TlsMaterialOptions } from './load-tls-material.js';
export { listenPair, type ListenerPair, type ListenerPairOptions } from './listener-pair.js';
