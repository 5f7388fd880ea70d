export {
  hashPassword,
  verifyPassword,
  passwordNeedsRehash,
  verifyAgainstDecoy,
  passwordHashParameters,
} from './password.js';
export { createLoginLimiter, clientBlock, clientNetwork, loginFailureCounter } from './login-limiter.js';
export type { LoginLimiter, LoginLimiterOptions, LoginVerdict } from './login-limiter.js';
export {
  LoginPolicy,
  loginMetrics,
  loginNameTooLong,
  MAX_LOGIN_NAME_BYTES,
  DEFAULT_FAILURE_DELAY_MS,
  type LoginAccounts,
  type LoginAttempt,
  type LoginOutcome,
  type LoginPolicyOptions,
  type LoginRefusal,
  type LoginProtocol,
  type LoginResult,
} from './login-policy.js';
export {
  SASL_MECHANISMS,
  decodePlainMessage,
  decodeSaslResponse,
  encodePlainResponse,
  isSaslMechanism,
  startSasl,
  type PlainDecoded,
  type SaslCredentials,
  type SaslExchange,
  type SaslMechanism,
  type SaslResponse,
  type SaslStart,
  type SaslStep,
} from './sasl.js';
export { isLoopbackAddress } from './loopback.js';
