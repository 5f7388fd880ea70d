export {
  hashPassword,
  verifyPassword,
  passwordNeedsRehash,
  verifyAgainstDecoy,
  passwordHashParameters,
} from './password.js';
export { createLoginLimiter, clientNetwork } from './login-limiter.js';
export type { LoginLimiter, LoginLimiterOptions, LoginVerdict } from './login-limiter.js';
export {
  guardedLogin,
  loginNameTooLong,
  MAX_LOGIN_NAME_BYTES,
  type GuardedLogin,
  type LoginAccounts,
} from './guarded-login.js';
export { isLoopbackAddress } from './loopback.js';
