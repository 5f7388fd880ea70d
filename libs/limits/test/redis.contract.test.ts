import { testBackends, uniqueName } from '@correo/testkit';
import { createRedisLimits } from '../src/redis-limits.js';
import { limitsContract } from './contract.js';

const { redisUrl } = testBackends();
// One prefix for the file: both "pods" must share it to share counters and locks.
const keyPrefix = `${uniqueName('limits')}:`;

limitsContract('redis', {
  make: () => createRedisLimits({ url: redisUrl, keyPrefix }),
  // Port 1 on loopback refuses at once; the store must give up, not retry forever.
  unreachable: () => createRedisLimits({ url: 'redis://127.0.0.1:1', timeoutMs: 500 }),
});
