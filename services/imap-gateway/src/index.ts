export { startImapGateway } from './gateway.js';
export type { ImapGateway, ImapGatewayDeps, ImapListenerName } from './gateway.js';
export { imapGatewaySection, defaultImapGatewayConfig } from './config.js';
export type { ImapGatewayConfig } from './config.js';
