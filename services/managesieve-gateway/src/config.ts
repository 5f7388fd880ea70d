import { hostname as osHostname } from 'node:os';
import { defineSection, flag, integer, optionalText, port, text } from '@correo/config';
import { MAX_SIEVE_SCRIPT_BYTES } from '@correo/store';

/**
 * managesieve-gateway's own variables (MANAGESIEVE_*). Defaults are the production ones; the
 * all-in-one sets the embedded port (14190). RFC 5804 has no implicit-TLS port: STARTTLS only.
 */
export const manageSieveGatewaySection = defineSection({
  variables: {
    MANAGESIEVE_HOSTNAME: text(osHostname()),
    MANAGESIEVE_BIND_HOST: text('0.0.0.0'),
    MANAGESIEVE_PORT: port({ default: 4190, allowZero: true }),
    MANAGESIEVE_TLS_CERT_FILE: optionalText(),
    MANAGESIEVE_TLS_KEY_FILE: optionalText(),
    MANAGESIEVE_ALLOW_PLAINTEXT_AUTH_LOOPBACK: flag(false),
    MANAGESIEVE_IDLE_TIMEOUT_MS: integer({ min: 1000, max: 86400000, default: 1800000 }),
    MANAGESIEVE_PREAUTH_TIMEOUT_MS: integer({ min: 1000, max: 3600000, default: 60000 }),
    MANAGESIEVE_MAX_LINE_LENGTH: integer({ min: 1024, max: 65536, default: 8192 }),
    MANAGESIEVE_MAX_LITERAL_BYTES: integer({
      min: 1024,
      max: 2 * MAX_SIEVE_SCRIPT_BYTES,
      default: MAX_SIEVE_SCRIPT_BYTES,
    }),
    MANAGESIEVE_MIN_TRANSFER_RATE: integer({ min: 0, max: 1_073_741_824, default: 1024 }),
    MANAGESIEVE_TRANSFER_RATE_WINDOW_MS: integer({ min: 100, max: 3_600_000, default: 30_000 }),
    MANAGESIEVE_MAX_SCRIPT_BYTES: integer({ min: 1024, max: MAX_SIEVE_SCRIPT_BYTES, default: 256 * 1024 }),
    MANAGESIEVE_MAX_SCRIPTS: integer({ min: 1, max: 10000, default: 64 }),
    MANAGESIEVE_MAX_CONNECTIONS: integer({ min: 1, max: 1000000, default: 1000 }),
    MANAGESIEVE_MAX_CONNECTIONS_PER_IP: integer({ min: 1, max: 1000000, default: 10 }),
    MANAGESIEVE_MAX_CONNECTIONS_PER_USER: integer({ min: 1, max: 1000000, default: 5 }),
    MANAGESIEVE_MAX_AUTH_FAILURES: integer({ min: 1, max: 100, default: 3 }),
  },
  check(vars) {
    const certGiven = vars.MANAGESIEVE_TLS_CERT_FILE !== undefined;
    const keyGiven = vars.MANAGESIEVE_TLS_KEY_FILE !== undefined;
    if (certGiven !== keyGiven) {
      const missing = certGiven ? 'MANAGESIEVE_TLS_KEY_FILE' : 'MANAGESIEVE_TLS_CERT_FILE';
      return [{ variable: missing, expected: 'a PEM file: the certificate and the key come together' }];
    }
    return [];
  },
  build(vars): ManageSieveGatewayConfig {
    return {
      hostname: vars.MANAGESIEVE_HOSTNAME,
      bindHost: vars.MANAGESIEVE_BIND_HOST,
      port: vars.MANAGESIEVE_PORT,
      tls: { certFile: vars.MANAGESIEVE_TLS_CERT_FILE, keyFile: vars.MANAGESIEVE_TLS_KEY_FILE },
      allowPlaintextAuthOnLoopback: vars.MANAGESIEVE_ALLOW_PLAINTEXT_AUTH_LOOPBACK,
      idleTimeoutMs: vars.MANAGESIEVE_IDLE_TIMEOUT_MS,
      preAuthTimeoutMs: vars.MANAGESIEVE_PREAUTH_TIMEOUT_MS,
      maxLineLength: vars.MANAGESIEVE_MAX_LINE_LENGTH,
      maxLiteralBytes: vars.MANAGESIEVE_MAX_LITERAL_BYTES,
      minTransferRate: vars.MANAGESIEVE_MIN_TRANSFER_RATE,
      transferRateWindowMs: vars.MANAGESIEVE_TRANSFER_RATE_WINDOW_MS,
      maxScriptBytes: vars.MANAGESIEVE_MAX_SCRIPT_BYTES,
      maxScripts: vars.MANAGESIEVE_MAX_SCRIPTS,
      maxConnections: vars.MANAGESIEVE_MAX_CONNECTIONS,
      maxConnectionsPerIp: vars.MANAGESIEVE_MAX_CONNECTIONS_PER_IP,
      maxConnectionsPerUser: vars.MANAGESIEVE_MAX_CONNECTIONS_PER_USER,
      maxAuthFailures: vars.MANAGESIEVE_MAX_AUTH_FAILURES,
    };
  },
});

export interface ManageSieveGatewayConfig {
  /** The name in the greeting's IMPLEMENTATION line and the TLS certificate. */
  hostname: string;
  bindHost: string;
  /** 0 lets the OS pick a free port (tests); startManageSieveGateway reports the real one. */
  port: number;
  tls: { certFile: string | undefined; keyFile: string | undefined };
  /** AUTHENTICATE without TLS from 127.0.0.0/8 and ::1 only; off unless a dev setup turns it on. */
  allowPlaintextAuthOnLoopback: boolean;
  idleTimeoutMs: number;
  /**
   * From connect to a successful AUTHENTICATE, however active the client is, and again from UNAUTHENTICATE
   * to the next; then BYE and close.
   */
  preAuthTimeoutMs: number;
  /** Octets of one command outside its literals; longer lines are skipped and answered NO. */
  maxLineLength: number;
  /** Octets of the literals of one command; more are skipped as they stream in and answered NO. */
  maxLiteralBytes: number;
  /** Octets per second a literal must average over each window while the server waits for it; 0: off. */
  minTransferRate: number;
  transferRateWindowMs: number;
  /** One script's size (PUTSCRIPT, CHECKSCRIPT, HAVESPACE): beyond it NO (QUOTA/MAXSIZE). */
  maxScriptBytes: number;
  /** Scripts per account: a new name beyond it is NO (QUOTA/MAXSCRIPTS). */
  maxScripts: number;
  maxConnections: number;
  /** Open connections from one client address, over every gateway pod. */
  maxConnectionsPerIp: number;
  /** Logged-in sessions of one account over every pod (NO (TRYLATER) beyond it). */
  maxConnectionsPerUser: number;
  /** Failed AUTHENTICATEs in one connection before BYE. */
  maxAuthFailures: number;
}

/** The configuration an embedded or test caller starts from; production reads the MANAGESIEVE_* variables. */
export function defaultManageSieveGatewayConfig(
  overrides: Partial<ManageSieveGatewayConfig> = {},
): ManageSieveGatewayConfig {
  return {
    hostname: osHostname(),
    bindHost: '127.0.0.1',
    port: 14190,
    tls: { certFile: undefined, keyFile: undefined },
    allowPlaintextAuthOnLoopback: false,
    idleTimeoutMs: 1_800_000,
    preAuthTimeoutMs: 60_000,
    maxLineLength: 8192,
    maxLiteralBytes: MAX_SIEVE_SCRIPT_BYTES,
    minTransferRate: 1024,
    transferRateWindowMs: 30_000,
    maxScriptBytes: 256 * 1024,
    maxScripts: 64,
    maxConnections: 1000,
    maxConnectionsPerIp: 10,
    maxConnectionsPerUser: 5,
    maxAuthFailures: 3,
    ...overrides,
  };
}
