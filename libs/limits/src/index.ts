export * from './port.js';
export { createRedisLimits } from './redis-limits.js';
export type { RedisLimitsOptions } from './redis-limits.js';
export { createMemoryLimits, MemoryLimitsState } from './memory-limits.js';
export type { MemoryLimitsOptions } from './memory-limits.js';
