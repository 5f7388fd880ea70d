import { hostname as osHostname } from 'node:os';
import { defineSection, flag, integer, optionalText, port, text } from '@correo/config';

/**
 * imap-gateway's own variables (IMAP_*). Defaults are the production ones; the all-in-one passes the
 * embedded ports (1143/1993) and the loopback allowance for plaintext logins.
 */
export const imapGatewaySection = defineSection({
  variables: {
    IMAP_HOSTNAME: text(osHostname()),
    IMAP_BIND_HOST: text('0.0.0.0'),
    IMAP_PORT: port({ default: 143, allowZero: true }),
    IMAPS_PORT: port({ default: 993, allowZero: true }),
    IMAP_TLS_CERT_FILE: optionalText(),
    IMAP_TLS_KEY_FILE: optionalText(),
    IMAP_ALLOW_PLAINTEXT_AUTH_LOOPBACK: flag(false),
    IMAP_AUTOLOGOUT_MS: integer({ min: 60_000, max: 86_400_000, default: 30 * 60_000 }),
    IMAP_IDLE_KEEPALIVE_MS: integer({ min: 1000, max: 3_600_000, default: 120_000 }),
    IMAP_MAX_LINE_LENGTH: integer({ min: 1024, max: 1_048_576, default: 65_536 }),
    IMAP_APPEND_LIMIT: integer({ min: 1024, max: 1_073_741_824, default: 50 * 1024 * 1024 }),
    IMAP_LITERAL_MEMORY: integer({ min: 1024, max: 68_719_476_736, default: 512 * 1024 * 1024 }),
    IMAP_DATABASE_BODY_BYTES: integer({ min: 0, max: 1024 * 1024, default: 64 * 1024 }),
    IMAP_MAX_CONNECTIONS: integer({ min: 1, max: 1_000_000, default: 20_000 }),
    IMAP_MAX_CONNECTIONS_PER_IP: integer({ min: 1, max: 1_000_000, default: 100 }),
    IMAP_MAX_CONNECTIONS_PER_USER: integer({ min: 1, max: 100_000, default: 50 }),
    IMAP_MAX_CONNECTIONS_PER_USER_IP: integer({ min: 1, max: 100_000, default: 10 }),
    IMAP_MAX_AUTH_FAILURES: integer({ min: 1, max: 100, default: 3 }),
    IMAP_FETCH_BATCH: integer({ min: 1, max: 10_000, default: 200 }),
    IMAP_PREAUTH_TIMEOUT_MS: integer({ min: 1000, max: 3_600_000, default: 60_000 }),
    IMAP_MIN_TRANSFER_RATE: integer({ min: 0, max: 1_073_741_824, default: 1024 }),
    IMAP_TRANSFER_RATE_WINDOW_MS: integer({ min: 1000, max: 3_600_000, default: 30_000 }),
    IMAP_MAX_LIST_WILDCARDS: integer({ min: 1, max: 1000, default: 16 }),
    IMAP_MAX_FETCH_ATTRIBUTES: integer({ min: 8, max: 10_000, default: 100 }),
    IMAP_MAX_KEYWORDS: integer({ min: 0, max: 100_000, default: 256 }),
    IMAP_MAX_KEYWORD_LENGTH: integer({ min: 8, max: 1000, default: 100 }),
    IMAP_METADATA_MAX_ENTRIES: integer({ min: 0, max: 1_000_000, default: 256 }),
    IMAP_METADATA_MAX_SIZE: integer({ min: 64, max: 16_777_216, default: 64 * 1024 }),
    IMAP_NOTIFY_MAX_PENDING: integer({ min: 16, max: 1_000_000, default: 1000 }),
  },
  check(vars) {
    const memory = vars.IMAP_LITERAL_MEMORY;
    const appendLimit = vars.IMAP_APPEND_LIMIT;
    if (memory !== undefined && appendLimit !== undefined && memory < appendLimit) {
      return [
        {
          variable: 'IMAP_LITERAL_MEMORY',
          expected: `at least IMAP_APPEND_LIMIT (${appendLimit}), or no APPEND of that size fits`,
        },
      ];
    }
    if ((vars.IMAP_TLS_CERT_FILE === undefined) !== (vars.IMAP_TLS_KEY_FILE === undefined)) {
      return [
        {
          variable: vars.IMAP_TLS_CERT_FILE === undefined ? 'IMAP_TLS_CERT_FILE' : 'IMAP_TLS_KEY_FILE',
          expected: 'set together with its pair: IMAP_TLS_CERT_FILE and IMAP_TLS_KEY_FILE go together',
        },
      ];
    }
    return [];
  },
  build(vars): ImapGatewayConfig {
    return {
      hostname: vars.IMAP_HOSTNAME,
      bindHost: vars.IMAP_BIND_HOST,
      ports: { imap: vars.IMAP_PORT, imaps: vars.IMAPS_PORT },
      tls: { certFile: vars.IMAP_TLS_CERT_FILE, keyFile: vars.IMAP_TLS_KEY_FILE },
      allowPlaintextAuthOnLoopback: vars.IMAP_ALLOW_PLAINTEXT_AUTH_LOOPBACK,
      autologoutMs: vars.IMAP_AUTOLOGOUT_MS,
      idleKeepaliveMs: vars.IMAP_IDLE_KEEPALIVE_MS,
      maxLineLength: vars.IMAP_MAX_LINE_LENGTH,
      appendLimit: vars.IMAP_APPEND_LIMIT,
      literalMemory: vars.IMAP_LITERAL_MEMORY,
      databaseBodyBytes: vars.IMAP_DATABASE_BODY_BYTES,
      maxConnections: vars.IMAP_MAX_CONNECTIONS,
      maxConnectionsPerIp: vars.IMAP_MAX_CONNECTIONS_PER_IP,
      maxConnectionsPerUser: vars.IMAP_MAX_CONNECTIONS_PER_USER,
      maxConnectionsPerUserIp: vars.IMAP_MAX_CONNECTIONS_PER_USER_IP,
      maxAuthFailures: vars.IMAP_MAX_AUTH_FAILURES,
      fetchBatch: vars.IMAP_FETCH_BATCH,
      preAuthTimeoutMs: vars.IMAP_PREAUTH_TIMEOUT_MS,
      minTransferRate: vars.IMAP_MIN_TRANSFER_RATE,
      transferRateWindowMs: vars.IMAP_TRANSFER_RATE_WINDOW_MS,
      maxListWildcards: vars.IMAP_MAX_LIST_WILDCARDS,
      maxFetchAttributes: vars.IMAP_MAX_FETCH_ATTRIBUTES,
      maxKeywords: vars.IMAP_MAX_KEYWORDS,
      maxKeywordLength: vars.IMAP_MAX_KEYWORD_LENGTH,
      metadataMaxEntries: vars.IMAP_METADATA_MAX_ENTRIES,
      metadataMaxSize: vars.IMAP_METADATA_MAX_SIZE,
      notifyMaxPending: vars.IMAP_NOTIFY_MAX_PENDING,
    };
  },
});

export interface ImapGatewayConfig {
  /** The name in the greeting. */
  hostname: string;
  bindHost: string;
  /** 0 lets the OS pick a free port (tests); startImapGateway reports the real ones. */
  ports: { imap: number; imaps: number };
  tls: { certFile: string | undefined; keyFile: string | undefined };
  /** LOGIN and AUTHENTICATE without TLS from 127.0.0.0/8 and ::1 only; the embedded default turns it on. */
  allowPlaintextAuthOnLoopback: boolean;
  /** RFC 9051 5.4: at least 30 minutes of inactivity before an autologout. IDLE counts as activity. */
  autologoutMs: number;
  /** "* OK Still here" during IDLE, so NAT boxes keep the connection. */
  idleKeepaliveMs: number;
  /** One command line without its literals. */
  maxLineLength: number;
  /** APPENDLIMIT (RFC 7889): the largest message APPEND takes, and the largest literal. */
  appendLimit: number;
  /**
   * Octets of literals all connections of the process may hold while their commands are incomplete
   * (APPEND bodies are buffered whole until parsed); a literal beyond it gets NO [LIMIT].
   */
  literalMemory: number;
  /**
   * An APPENDed body held in memory (not streamed) of at most this many octets is kept in PostgreSQL
   * (message_bodies) by the APPEND's own statement instead of the blob store: no blob file, fsync or
   * rename, only the commit's WAL flush (the mda does the same for deliveries: MDA_DATABASE_BODY_BYTES).
   * 0: every body goes to the blob store.
   */
  databaseBodyBytes: number;
  /** Sessions of this gateway process, both listeners together; beyond it the greeting is BYE [LIMIT]. */
  maxConnections: number;
  /** From one client address, over every gateway pod (connection leases in the limits port). */
  maxConnectionsPerIp: number;
  /** From connect to a successful login, however active the client is; then BYE and close. */
  preAuthTimeoutMs: number;
  /** Octets per second a literal (APPEND, LOGIN) must average over each window; 0 turns it off. */
  minTransferRate: number;
  transferRateWindowMs: number;
  /** Logged-in sessions of one account over every gateway pod; beyond it LOGIN gets NO [LIMIT]. */
  maxConnectionsPerUser: number;
  /** Logged-in sessions of one account from one address over every pod (Dovecot's mail_max_userip_connections). */
  maxConnectionsPerUserIp: number;
  /** Failed logins in one connection before it is closed. */
  maxAuthFailures: number;
  /** Messages read from the store per query during FETCH. */
  fetchBatch: number;
  /** Wildcards (`*`, `%`) in one LIST/LSUB pattern; more get BAD [LIMIT]. */
  maxListWildcards: number;
  /** Distinct attributes in one FETCH (after duplicates are merged); more get BAD [LIMIT]. */
  maxFetchAttributes: number;
  /** Distinct keywords (flags without a backslash) in one mailbox; a new one beyond gets NO [LIMIT]. */
  maxKeywords: number;
  /** Octets of one keyword; a longer one gets NO [LIMIT]. */
  maxKeywordLength: number;
  /** METADATA (RFC 5464): entries one account may hold, server and mailbox ones together. */
  metadataMaxEntries: number;
  /** METADATA: octets of one entry's value; a larger one gets NO [METADATA MAXSIZE n]. */
  metadataMaxSize: number;
  /**
   * NOTIFY (RFC 5465): changes waiting to be sent to one session (it is busy or the client reads
   * slowly); beyond it the session gets `* OK [NOTIFICATIONOVERFLOW]` and notifications stop.
   */
  notifyMaxPending: number;
}

/** The configuration an embedded or test caller starts from; production reads the IMAP_* variables. */
export function defaultImapGatewayConfig(overrides: Partial<ImapGatewayConfig> = {}): ImapGatewayConfig {
  return {
    hostname: osHostname(),
    bindHost: '127.0.0.1',
    ports: { imap: 1143, imaps: 1993 },
    tls: { certFile: undefined, keyFile: undefined },
    allowPlaintextAuthOnLoopback: true,
    autologoutMs: 30 * 60_000,
    idleKeepaliveMs: 120_000,
    maxLineLength: 65_536,
    appendLimit: 50 * 1024 * 1024,
    literalMemory: 512 * 1024 * 1024,
    databaseBodyBytes: 64 * 1024,
    maxConnections: 20_000,
    maxConnectionsPerIp: 100,
    maxConnectionsPerUser: 50,
    maxConnectionsPerUserIp: 10,
    maxAuthFailures: 3,
    fetchBatch: 200,
    preAuthTimeoutMs: 60_000,
    minTransferRate: 1024,
    transferRateWindowMs: 30_000,
    maxListWildcards: 16,
    maxFetchAttributes: 100,
    maxKeywords: 256,
    maxKeywordLength: 100,
    metadataMaxEntries: 256,
    metadataMaxSize: 64 * 1024,
    notifyMaxPending: 1000,
    ...overrides,
  };
}
