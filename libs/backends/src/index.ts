export { openBlobs, openBus, openLimits, openNotifier } from './open.js';
export { openBackends, requireDatabaseUrl, type BackendPort, type Backends } from './open-backends.js';
