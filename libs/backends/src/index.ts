export { openBlobs, openBus, openLimits, openNotifier } from './open.js';
