export { startManageSieveGateway } from './gateway.js';
export type { ManageSieveGateway, ManageSieveGatewayDeps } from './gateway.js';
export { manageSieveGatewaySection, defaultManageSieveGatewayConfig } from './config.js';
export type { ManageSieveGatewayConfig } from './config.js';
export { ManageSieveSession } from './session.js';
export type { ConnectionFacts, SessionDeps, SessionIo, SessionSettings } from './session.js';
export type { ScriptStore } from './script-store.js';
export { createScriptStore } from './script-store.js';
export { checkSieveScript, SIEVE_CAPABILITY } from './check-script.js';
