import { createMemoryLimits, MemoryLimitsState } from '@correo/limits';
import { loginLimiterContract } from './login-limiter-contract.js';

// One state for the file, as Redis is one server for every pod.
const state = new MemoryLimitsState();
loginLimiterContract('memory', () => createMemoryLimits({ state }));
