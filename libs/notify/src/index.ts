export * from './port.js';
export { createRedisNotifier } from './redis-notifier.js';
export type { RedisNotifierOptions } from './redis-notifier.js';
export { mailboxChannel, type MailboxChange } from './mailbox-channel.js';
export { createMemoryNotifier, MemoryBus } from './memory-notifier.js';
export type { MemoryNotifierOptions } from './memory-notifier.js';
