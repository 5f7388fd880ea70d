import { testBackends } from '@correo/testkit';
import { createRedisNotifier } from '../src/redis-notifier.js';
import { notifyContract } from './contract.js';

const { redisUrl } = testBackends();

notifyContract('redis', {
  make: () => createRedisNotifier({ url: redisUrl }),
  // Port 1 on loopback refuses at once; the notifier must give up, not retry forever.
  unreachable: () => createRedisNotifier({ url: 'redis://127.0.0.1:1', timeoutMs: 500 }),
});
