export { openBlobs, openBus, openLimits, openNotifier } from './open.js';
export { openBackends, requireDatabaseUrl, type BackendPort, type Backends } from './open-backends.js';
export { REPLAY_HEADER, replayDeadLetter, startDeadLetterArchive } from './dead-letters.js';
export type { DeadLetterArchiveOptions } from './dead-letters.js';
export { stallCheck } from './consumer-readiness.js';
export { runMailboxGateway, type MailboxGateway, type MailboxGatewayDeps } from './mailbox-gateway.js';
