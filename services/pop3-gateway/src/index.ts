export { startPop3Gateway } from './gateway.js';
export type { Pop3Gateway, Pop3GatewayDeps, Pop3ListenerName } from './gateway.js';
export { pop3GatewaySection, defaultPop3GatewayConfig } from './config.js';
export type { Pop3GatewayConfig } from './config.js';
