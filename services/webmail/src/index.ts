export { buildWebmail, cookieName, DEFAULT_ASSETS_DIR, type Webmail, type WebmailOptions } from './app.js';
export { webmailSection, type WebmailConfig } from './config.js';
export { startWebmail, type RunningWebmail } from './start.js';
export type { Gateways } from './gateways.js';
export { UserSettingsStore } from './user-settings.js';
