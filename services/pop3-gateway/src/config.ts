import { hostname as osHostname } from 'node:os';
import { defineSection, flag, integer, optionalText, port, text } from '@correo/config';

/**
 * pop3-gateway's own variables (POP3_*). Defaults are the production ones; the all-in-one sets the
 * embedded ports (1110/1995) and POP3_ALLOW_PLAINTEXT_AUTH_LOOPBACK=true.
 */
export const pop3GatewaySection = defineSection({
  variables: {
    POP3_HOSTNAME: text(osHostname()),
    POP3_BIND_HOST: text('0.0.0.0'),
    POP3_PORT: port({ default: 110, allowZero: true }),
    POP3S_PORT: port({ default: 995, allowZero: true }),
    POP3_TLS_CERT_FILE: optionalText(),
    POP3_TLS_KEY_FILE: optionalText(),
    POP3_ALLOW_PLAINTEXT_AUTH_LOOPBACK: flag(false),
    POP3_IDLE_TIMEOUT_MS: integer({ min: 1000, max: 86400000, default: 600000 }),
    POP3_MAX_LINE_LENGTH: integer({ min: 255, max: 65536, default: 2048 }),
    POP3_MAX_CONNECTIONS: integer({ min: 1, max: 1000000, default: 2000 }),
    POP3_MAX_CONNECTIONS_PER_IP: integer({ min: 1, max: 1000000, default: 10 }),
    POP3_PREAUTH_TIMEOUT_MS: integer({ min: 1000, max: 3600000, default: 60000 }),
    POP3_MAX_AUTH_FAILURES: integer({ min: 1, max: 100, default: 3 }),
    POP3_LOCK_TTL_MS: integer({ min: 3000, max: 3600000, default: 60000 }),
  },
  check(vars) {
    const certGiven = vars.POP3_TLS_CERT_FILE !== undefined;
    const keyGiven = vars.POP3_TLS_KEY_FILE !== undefined;
    if (certGiven && !keyGiven) {
      return [
        { variable: 'POP3_TLS_KEY_FILE', expected: 'a PEM key file because POP3_TLS_CERT_FILE is set' },
      ];
    }
    if (keyGiven && !certGiven) {
      return [
        {
          variable: 'POP3_TLS_CERT_FILE',
          expected: 'a PEM certificate file because POP3_TLS_KEY_FILE is set',
        },
      ];
    }
    return [];
  },
  build(vars): Pop3GatewayConfig {
    return {
      hostname: vars.POP3_HOSTNAME,
      bindHost: vars.POP3_BIND_HOST,
      ports: { pop3: vars.POP3_PORT, pop3s: vars.POP3S_PORT },
      tls: { certFile: vars.POP3_TLS_CERT_FILE, keyFile: vars.POP3_TLS_KEY_FILE },
      allowPlaintextAuthOnLoopback: vars.POP3_ALLOW_PLAINTEXT_AUTH_LOOPBACK,
      idleTimeoutMs: vars.POP3_IDLE_TIMEOUT_MS,
      maxLineLength: vars.POP3_MAX_LINE_LENGTH,
      maxConnections: vars.POP3_MAX_CONNECTIONS,
      maxConnectionsPerIp: vars.POP3_MAX_CONNECTIONS_PER_IP,
      preAuthTimeoutMs: vars.POP3_PREAUTH_TIMEOUT_MS,
      maxAuthFailures: vars.POP3_MAX_AUTH_FAILURES,
      lockTtlMs: vars.POP3_LOCK_TTL_MS,
    };
  },
});

export interface Pop3GatewayConfig {
  /** The name in the greeting. */
  hostname: string;
  bindHost: string;
  /** 0 lets the OS pick a free port (tests); startPop3Gateway reports the real ones. */
  ports: { pop3: number; pop3s: number };
  tls: { certFile: string | undefined; keyFile: string | undefined };
  /** USER/PASS and AUTH without TLS from 127.0.0.0/8 and ::1 only; the embedded default turns it on. */
  allowPlaintextAuthOnLoopback: boolean;
  /** RFC 1939 3: the autologout timer must be at least 10 minutes. */
  idleTimeoutMs: number;
  /** One command line without its CRLF; longer lines are discarded and answered -ERR. */
  maxLineLength: number;
  /** Sessions of this gateway process, both listeners together; beyond it the greeting is -ERR [SYS/TEMP]. */
  maxConnections: number;
  /** Open connections from one client address, over every gateway pod (connection leases in the limits port). */
  maxConnectionsPerIp: number;
  /** From connect to a successful login, however active the client is; then -ERR and close. */
  preAuthTimeoutMs: number;
  /** Failed logins in one connection before it is closed. */
  maxAuthFailures: number;
  /** Expiry of the one-session-per-maildrop lock; renewed at a third of it while the session lives. */
  lockTtlMs: number;
}

/** The configuration an embedded or test caller starts from; production reads the POP3_* variables. */
export function defaultPop3GatewayConfig(overrides: Partial<Pop3GatewayConfig> = {}): Pop3GatewayConfig {
  return {
    hostname: osHostname(),
    bindHost: '127.0.0.1',
    ports: { pop3: 1110, pop3s: 1995 },
    tls: { certFile: undefined, keyFile: undefined },
    allowPlaintextAuthOnLoopback: true,
    idleTimeoutMs: 600_000,
    maxLineLength: 2048,
    maxConnections: 2000,
    maxConnectionsPerIp: 10,
    preAuthTimeoutMs: 60_000,
    maxAuthFailures: 3,
    lockTtlMs: 60_000,
    ...overrides,
  };
}
