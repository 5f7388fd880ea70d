export * from './port.js';
export { createRedisNotifier } from './redis-notifier.js';
export type { RedisNotifierOptions } from './redis-notifier.js';
export {
  MailboxChangeFeed,
  decodeMailboxChange,
  encodeMailboxChange,
  observeMailboxChangeFanout,
  mailboxChannel,
  type ChangeFeedLog,
  type MailboxChange,
  type MailboxChangePublisher,
} from './mailbox-changes.js';
export { createMemoryNotifier, MemoryBus } from './memory-notifier.js';
export type { MemoryNotifierOptions } from './memory-notifier.js';
