export { startMtaRelay } from './relay.js';
export type { MtaRelay, MtaRelayDeps } from './relay.js';
export { relayConfigSection } from './config.js';
export type { RelaySettings } from './config.js';
export { parseDuration, parseSchedule } from './durations.js';
