export { startMda } from './mda.js';
export type { Mda, MdaDeps } from './mda.js';
export { mdaConfigSection } from './config.js';
export type { MdaSettings } from './config.js';
export { mailboxChannel } from './deliver-event.js';
