export * from './port.js';
export { createRedisNotifier } from './redis-notifier.js';
export type { RedisConnectionOptions as RedisNotifierOptions } from '@correo/redis';
export { createMemoryNotifier, MemoryBus } from './memory-notifier.js';
export type { MemoryNotifierOptions } from './memory-notifier.js';
