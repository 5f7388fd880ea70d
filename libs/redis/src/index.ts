export { closeRedis, openRedis } from './connection.js';
export type { RedisConnectionOptions, RedisLink } from './connection.js';
