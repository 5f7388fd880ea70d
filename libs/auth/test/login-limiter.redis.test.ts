import { randomBytes } from 'node:crypto';
import { createRedisLimits } from '@correo/limits';
import { testBackends } from '@correo/testkit';
import { loginLimiterContract } from './login-limiter-contract.js';

const keyPrefix = `test:auth:${randomBytes(4).toString('hex')}:`;
loginLimiterContract('redis', () => createRedisLimits({ url: testBackends().redisUrl, keyPrefix }));
