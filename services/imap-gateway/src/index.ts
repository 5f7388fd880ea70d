export { startImapGateway } from './gateway.js';
export type { ImapGateway, ImapGatewayDeps, ImapListenerName } from './gateway.js';
export { imapGatewaySection, defaultImapGatewayConfig } from './config.js';
export type { ImapGatewayConfig } from './config.js';
export { mailboxChannel } from './mailbox-changes.js';
export type { MailboxChange } from './mailbox-changes.js';
