export { startMda } from './mda.js';
export type { Mda, MdaDeps } from './mda.js';
export { databaseBodyBytesDefault, housekeepingDefaults, mdaConfigSection } from './config.js';
export type { Housekeeping, HousekeepingRun, HousekeepingSettings } from './housekeeping.js';
export type { MdaSettings } from './config.js';
export { mdaMetrics } from './metrics.js';
