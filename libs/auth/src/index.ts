export {
  hashPassword,
  verifyPassword,
  passwordNeedsRehash,
  verifyAgainstDecoy,
  passwordHashParameters,
} from './password.js';
export { createLoginLimiter } from './login-limiter.js';
export type { LoginLimiter, LoginLimiterOptions, LoginVerdict } from './login-limiter.js';
export { guardedLogin, loginNameTooLong, MAX_LOGIN_NAME_BYTES, type GuardedLogin } from './guarded-login.js';
export { isLoopbackAddress } from './loopback.js';
