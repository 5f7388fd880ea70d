import { hostname as osHostname, tmpdir } from 'node:os';
import {
  cidrList,
  decimal,
  defineSection,
  dnsServerList,
  domainList,
  flag,
  integer,
  oneOf,
  optionalText,
  port,
  text,
  url,
} from '@correo/config';
import type { SpamFilterConfig } from './spam-filter.js';

/**
 * smtp-ingress's own variables (SMTP_*). Defaults are the production ones; the all-in-one sets the
 * embedded ports (2525/2587/2465) and SMTP_ALLOW_PLAINTEXT_AUTH_LOOPBACK=true.
 */
export const smtpIngressSection = defineSection({
  variables: {
    SMTP_HOSTNAME: text(osHostname()),
    SMTP_BIND_HOST: text('0.0.0.0'),
    SMTP_MX_PORT: port({ default: 25, allowZero: true }),
    SMTP_SUBMISSION_PORT: port({ default: 587, allowZero: true }),
    SMTP_SUBMISSIONS_PORT: port({ default: 465, allowZero: true }),
    SMTP_TLS_CERT_FILE: optionalText(),
    SMTP_TLS_KEY_FILE: optionalText(),
    SMTP_ALLOW_PLAINTEXT_AUTH_LOOPBACK: flag(false),
    SMTP_MAX_MESSAGE_BYTES: integer({ min: 1024, max: 2 ** 31, default: 50 * 1024 * 1024 }),
    SMTP_MAX_HEADER_BYTES: integer({ min: 1024, max: 16 * 1024 * 1024, default: 256 * 1024 }),
    SMTP_MAX_LINE_LENGTH: integer({ min: 78, max: 1024 * 1024, default: 998 }),
    SMTP_MAX_COMMAND_LENGTH: integer({ min: 512, max: 1024 * 1024, default: 4096 }),
    SMTP_MAX_RECIPIENTS: integer({ min: 1, max: 100000, default: 100 }),
    SMTP_MAX_CONNECTIONS: integer({ min: 1, max: 1000000, default: 1000 }),
    SMTP_MAX_CONNECTIONS_PER_IP: integer({ min: 1, max: 1000000, default: 20 }),
    SMTP_CONNECTIONS_PER_IP_PER_MINUTE: integer({ min: 0, max: 1000000, default: 300 }),
    SMTP_IDLE_TIMEOUT_MS: integer({ min: 100, max: 3600000, default: 60000 }),
    SMTP_SESSION_TIMEOUT_MS: integer({ min: 100, max: 86400000, default: 600000 }),
    SMTP_MIN_TRANSFER_RATE: integer({ min: 0, max: 1073741824, default: 1024 }),
    SMTP_TRANSFER_RATE_WINDOW_MS: integer({ min: 100, max: 3600000, default: 30000 }),
    SMTP_SHUTDOWN_TIMEOUT_MS: integer({ min: 0, max: 600000, default: 10000 }),
    SMTP_SENDER_AUTHENTICATION: flag(true),
    SMTP_DMARC_REJECT: flag(true),
    SMTP_DNS_SERVERS: dnsServerList(),
    SMTP_DNS_TIMEOUT_MS: integer({ min: 100, max: 60000, default: 5000 }),
    SMTP_DNS_CACHE_TTL_MS: integer({ min: 0, max: 3600000, default: 30000 }),
    SMTP_DNS_CACHE_MAX_ENTRIES: integer({ min: 1, max: 10000000, default: 10000 }),
    // RFC 9520: a resolver caches a resolution failure for at least 1 s and at most 5 minutes.
    SMTP_DNS_FAILURE_CACHE_MS: integer({ min: 0, max: 300000, default: 1000 }),
    SMTP_SPOOL_DIR: text(tmpdir()),
    SMTP_INLINE_BODY_BYTES: integer({ min: 0, max: 512 * 1024, default: 128 * 1024 }),
    RSPAMD_URL: url(['http', 'https']).optional(),
    RSPAMD_TIMEOUT_MS: integer({ min: 100, max: 600000, default: 10000 }),
    SMTP_SPAM_SCAN_SUBMISSION: flag(true),
    SMTP_SPAM_JUNK_SCORE: decimal({ min: -1000, max: 1000, default: 6 }),
    // Spam and abuse defence at connect, MAIL and RCPT (docs/spam.md); 0 turns a limit off.
    SMTP_CONNECTIONS_PER_IP_PER_HOUR: integer({ min: 0, max: 100000000, default: 3000 }),
    SMTP_CONNECTIONS_PER_BLOCK_PER_MINUTE: integer({ min: 0, max: 100000000, default: 1000 }),
    SMTP_CONNECTIONS_PER_BLOCK_PER_HOUR: integer({ min: 0, max: 100000000, default: 20000 }),
    SMTP_MESSAGES_PER_IP_PER_MINUTE: integer({ min: 0, max: 100000000, default: 120 }),
    SMTP_MESSAGES_PER_IP_PER_HOUR: integer({ min: 0, max: 100000000, default: 2000 }),
    SMTP_MESSAGES_PER_BLOCK_PER_MINUTE: integer({ min: 0, max: 100000000, default: 600 }),
    SMTP_MESSAGES_PER_BLOCK_PER_HOUR: integer({ min: 0, max: 100000000, default: 10000 }),
    SMTP_RECIPIENTS_PER_ACCOUNT_PER_HOUR: integer({ min: 0, max: 100000000, default: 1000 }),
    SMTP_DECISIONS_PER_IP_PER_MINUTE: integer({ min: 0, max: 1000000, default: 20 }),
    SMTP_GREYLISTING: flag(false),
    SMTP_GREYLIST_DELAY_SECONDS: integer({ min: 0, max: 86400, default: 300 }),
    SMTP_GREYLIST_RETRY_WINDOW_SECONDS: integer({ min: 60, max: 30 * 86400, default: 2 * 86400 }),
    SMTP_GREYLIST_PASS_TTL_SECONDS: integer({ min: 60, max: 365 * 86400, default: 35 * 86400 }),
    SMTP_GREYLIST_ALLOW_NETWORKS: cidrList(),
    SMTP_GREYLIST_ALLOW_SENDER_DOMAINS: domainList(),
    SMTP_DNSBL_ZONES: domainList(),
    SMTP_DNSWL_ZONES: domainList(),
    SMTP_DNSBL_MODE: oneOf(['reject', 'score'] as const).default('reject'),
    SMTP_DNSBL_SCORE: integer({ min: 0, max: 100, default: 5 }),
    SMTP_HELO_CHECKS: flag(true),
  },
  check(vars) {
    const issues: { variable: string; expected: string }[] = [];
    const certGiven = vars.SMTP_TLS_CERT_FILE !== undefined;
    const keyGiven = vars.SMTP_TLS_KEY_FILE !== undefined;
    if (certGiven && !keyGiven) {
      issues.push({
        variable: 'SMTP_TLS_KEY_FILE',
        expected: 'a PEM key file because SMTP_TLS_CERT_FILE is set',
      });
    }
    if (keyGiven && !certGiven) {
      issues.push({
        variable: 'SMTP_TLS_CERT_FILE',
        expected: 'a PEM certificate file because SMTP_TLS_KEY_FILE is set',
      });
    }
    return issues;
  },
  build(vars): SmtpIngressConfig {
    return {
      hostname: vars.SMTP_HOSTNAME,
      bindHost: vars.SMTP_BIND_HOST,
      ports: {
        mx: vars.SMTP_MX_PORT,
        submission: vars.SMTP_SUBMISSION_PORT,
        submissions: vars.SMTP_SUBMISSIONS_PORT,
      },
      tls: { certFile: vars.SMTP_TLS_CERT_FILE, keyFile: vars.SMTP_TLS_KEY_FILE },
      allowPlaintextAuthOnLoopback: vars.SMTP_ALLOW_PLAINTEXT_AUTH_LOOPBACK,
      maxMessageBytes: vars.SMTP_MAX_MESSAGE_BYTES,
      maxHeaderBytes: vars.SMTP_MAX_HEADER_BYTES,
      maxLineLength: vars.SMTP_MAX_LINE_LENGTH,
      maxCommandLength: vars.SMTP_MAX_COMMAND_LENGTH,
      maxRecipients: vars.SMTP_MAX_RECIPIENTS,
      maxConnections: vars.SMTP_MAX_CONNECTIONS,
      maxConnectionsPerIp: vars.SMTP_MAX_CONNECTIONS_PER_IP,
      connectionsPerIpPerMinute: vars.SMTP_CONNECTIONS_PER_IP_PER_MINUTE,
      idleTimeoutMs: vars.SMTP_IDLE_TIMEOUT_MS,
      sessionTimeoutMs: vars.SMTP_SESSION_TIMEOUT_MS,
      minTransferRate: vars.SMTP_MIN_TRANSFER_RATE,
      transferRateWindowMs: vars.SMTP_TRANSFER_RATE_WINDOW_MS,
      shutdownTimeoutMs: vars.SMTP_SHUTDOWN_TIMEOUT_MS,
      inlineBodyBytes: vars.SMTP_INLINE_BODY_BYTES,
      spamFilter: vars.RSPAMD_URL
        ? {
            url: vars.RSPAMD_URL,
            timeoutMs: vars.RSPAMD_TIMEOUT_MS,
            scanSubmission: vars.SMTP_SPAM_SCAN_SUBMISSION,
            junkScore: vars.SMTP_SPAM_JUNK_SCORE,
          }
        : undefined,
      senderAuthentication: {
        enabled: vars.SMTP_SENDER_AUTHENTICATION,
        dmarcReject: vars.SMTP_DMARC_REJECT,
        dnsServers: vars.SMTP_DNS_SERVERS,
        dnsTimeoutMs: vars.SMTP_DNS_TIMEOUT_MS,
        dnsCacheTtlMs: vars.SMTP_DNS_CACHE_TTL_MS,
        dnsCacheMaxEntries: vars.SMTP_DNS_CACHE_MAX_ENTRIES,
        dnsFailureCacheMs: vars.SMTP_DNS_FAILURE_CACHE_MS,
        spoolDir: vars.SMTP_SPOOL_DIR,
      },
      abuse: {
        connectionsPerIpPerHour: vars.SMTP_CONNECTIONS_PER_IP_PER_HOUR,
        connectionsPerBlockPerMinute: vars.SMTP_CONNECTIONS_PER_BLOCK_PER_MINUTE,
        connectionsPerBlockPerHour: vars.SMTP_CONNECTIONS_PER_BLOCK_PER_HOUR,
        messagesPerIpPerMinute: vars.SMTP_MESSAGES_PER_IP_PER_MINUTE,
        messagesPerIpPerHour: vars.SMTP_MESSAGES_PER_IP_PER_HOUR,
        messagesPerBlockPerMinute: vars.SMTP_MESSAGES_PER_BLOCK_PER_MINUTE,
        messagesPerBlockPerHour: vars.SMTP_MESSAGES_PER_BLOCK_PER_HOUR,
        recipientsPerAccountPerHour: vars.SMTP_RECIPIENTS_PER_ACCOUNT_PER_HOUR,
        decisionsPerIpPerMinute: vars.SMTP_DECISIONS_PER_IP_PER_MINUTE,
        greylisting: {
          enabled: vars.SMTP_GREYLISTING,
          delayMs: vars.SMTP_GREYLIST_DELAY_SECONDS * 1000,
          retryWindowMs: vars.SMTP_GREYLIST_RETRY_WINDOW_SECONDS * 1000,
          passTtlMs: vars.SMTP_GREYLIST_PASS_TTL_SECONDS * 1000,
          allowNetworks: vars.SMTP_GREYLIST_ALLOW_NETWORKS,
          allowSenderDomains: vars.SMTP_GREYLIST_ALLOW_SENDER_DOMAINS,
        },
        dnsbl: {
          zones: vars.SMTP_DNSBL_ZONES,
          allowZones: vars.SMTP_DNSWL_ZONES,
          mode: vars.SMTP_DNSBL_MODE,
          score: vars.SMTP_DNSBL_SCORE,
        },
        heloChecks: vars.SMTP_HELO_CHECKS,
      },
    };
  },
});

export interface SmtpIngressConfig {
  /** The name in the greeting, the Received header and generated Message-IDs. */
  hostname: string;
  bindHost: string;
  /** 0 lets the OS pick a free port (tests); startSmtpIngress reports the real ones. */
  ports: { mx: number; submission: number; submissions: number };
  tls: { certFile: string | undefined; keyFile: string | undefined };
  /** AUTH without TLS from 127.0.0.0/8 and ::1 only; the embedded default turns it on. */
  allowPlaintextAuthOnLoopback: boolean;
  /** Of the DATA as the client sent it (advertised in SIZE); 552 5.3.4 beyond. */
  maxMessageBytes: number;
  /** The header block is read with a buffer this large at most; 552 5.3.4 beyond. */
  maxHeaderBytes: number;
  /** Octets of one message line without its CRLF (RFC 5322: 998); 500 5.5.2 beyond. */
  maxLineLength: number;
  /** One command line; 421 and the connection is closed beyond. */
  maxCommandLength: number;
  maxRecipients: number;
  /** Per listener (smtp-server maxClients). */
  maxConnections: number;
  /** Concurrent connections from one address to this process. */
  maxConnectionsPerIp: number;
  /** New connections from one address per minute across every pod (limits port); 0 turns it off. */
  connectionsPerIpPerMinute: number;
  /** Inactivity before the client is told 421 and disconnected. */
  idleTimeoutMs: number;
  /** Whole-connection lifetime, so a client trickling bytes cannot hold a slot forever. */
  sessionTimeoutMs: number;
  /** DATA must average this many octets per second over each window, or 421 and close; 0: off. */
  minTransferRate: number;
  transferRateWindowMs: number;
  /** How long close() lets open sessions finish before cutting them. */
  shutdownTimeoutMs: number;
  /**
   * Messages up to this size (as stored) ride in their MailAccepted event, the accept's one durable
   * write; the mda stores them in the blob store before filing. 0: every body goes to the blob store
   * before the 250 (body-store.ts).
   */
  inlineBodyBytes: number;
  /** SPF, DKIM and DMARC of mail arriving on the MX listener (submission is authenticated instead). */
  senderAuthentication: SenderAuthenticationConfig;
  /** Rspamd after DATA (spam-filter.ts, docs/spam.md); undefined when RSPAMD_URL is unset. */
  spamFilter?: SpamFilterConfig;
  /** Rate limits, greylisting, DNSBL/DNSWL and HELO/rDNS checks (docs/spam.md). */
  abuse: AbuseDefenceConfig;
}

/** Every count is across pods (limits port); 0 turns that limit off. A block is a /24 (IPv6: /64). */
export interface AbuseDefenceConfig {
  connectionsPerIpPerHour: number;
  connectionsPerBlockPerMinute: number;
  connectionsPerBlockPerHour: number;
  /** MAIL FROM transactions of unauthenticated (MX) clients. */
  messagesPerIpPerMinute: number;
  messagesPerIpPerHour: number;
  messagesPerBlockPerMinute: number;
  messagesPerBlockPerHour: number;
  /** RCPT TO accepted per authenticated account (submission). */
  recipientsPerAccountPerHour: number;
  /** Refusals recorded (mail_decisions) per client address per minute; the metric counts every one. */
  decisionsPerIpPerMinute: number;
  greylisting: GreylistingConfig;
  dnsbl: DnsListConfig;
  /** HELO and reverse-DNS sanity as a score (never a refusal), on the MX listener. */
  heloChecks: boolean;
}

export interface GreylistingConfig {
  enabled: boolean;
  /** A triplet retried this long after its first attempt passes. */
  delayMs: number;
  /** How long a first attempt is remembered, waiting for its retry. */
  retryWindowMs: number;
  /** How long a passed triplet passes without delay. */
  passTtlMs: number;
  allowNetworks: string[];
  allowSenderDomains: string[];
}

export interface DnsListConfig {
  /** Block lists asked with the reversed client address at connect. */
  zones: string[];
  /** Allow lists: a listed client is not greylisted nor refused by a block list. */
  allowZones: string[];
  /** reject: 554 5.7.1 at connect; score: a sender-check symbol for the spam verdict. */
  mode: 'reject' | 'score';
  score: number;
}

export interface SenderAuthenticationConfig {
  /** Off: MX mail is stored without checks or an Authentication-Results header. */
  enabled: boolean;
  /** Refuse (550 5.7.1) mail failing DMARC when the From domain publishes p=reject. */
  dmarcReject: boolean;
  /** ip or ip:port; empty: the system's resolvers (/etc/resolv.conf). */
  dnsServers: string[];
  /** Per DNS query; a query that times out makes that check temperror. */
  dnsTimeoutMs: number;
  /** How long a final DNS answer is reused (0: never), and how many are kept. */
  dnsCacheTtlMs: number;
  dnsCacheMaxEntries: number;
  /** How long a failed DNS lookup is answered with its failure (RFC 9520; 0: never). */
  dnsFailureCacheMs: number;
  /** Where MX messages wait on local disk while they are verified (see README). */
  spoolDir: string;
}
