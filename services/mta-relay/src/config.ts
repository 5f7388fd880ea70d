import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { defineSection, dnsServerList, integer, port, text } from '@correo/config';
import type { CrossCheckIssue } from '@correo/config';
import { isCidr, parseTransportMap } from './destinations.js';
import type { NextHop } from './destinations.js';
import { parseDuration, parseSchedule } from './durations.js';
import type { OutboundLimits } from './outbound-limits.js';

/** What startMtaRelay needs besides its adapters; main.ts builds it from the RELAY_* variables. */
export interface RelaySettings {
  group: string;
  outboundTopic: string;
  /** Where DSNs for local senders go, for the mda to file. */
  acceptedTopic: string;
  deadLetterTopic: string;
  maxAttempts: number;
  topicPartitions: number;
  /** EHLO name and Reporting-MTA of DSNs. */
  ehloName: string;
  /** host:port entries; empty means the system resolver. */
  dnsServers: string[];
  dnsTimeoutMs: number;
  /** The port every remote MX is contacted on (25; tests point it at a loopback server). */
  smtpPort: number;
  /**
   * Explicit next hops by destination domain (RELAY_TRANSPORT_MAP): no MX lookup, and the host may
   * be on any network, private ones included.
   */
  transportMap: Map<string, NextHop>;
  /**
   * Networks beyond the public internet that MX answers may lead to (RELAY_ALLOWED_NETWORKS, CIDRs;
   * test stacks on loopback). Empty: DNS answers reach public unicast addresses only.
   */
  allowedNetworks: string[];
  /**
   * The local IP outgoing SMTP connections come from, on a multi-homed host: the address the sending
   * domains' SPF records name. Undefined: whatever the OS routes from.
   */
  sourceAddress?: string | undefined;
  /** Domains whose MX must offer STARTTLS, else the attempt fails temporarily. */
  requireTlsDomains: string[];
  connectTimeoutMs: number;
  /** Greeting and per-command timeout. */
  commandTimeoutMs: number;
  maxConnectionsPerDomain: number;
  maxMessagesPerConnection: number;
  /** How long an idle connection is kept open for the next message to the same domain. */
  connectionIdleMs: number;
  /** Delays after the 1st, 2nd, ... failed attempt; the last one repeats. */
  retrySchedule: number[];
  maxLifetimeMs: number;
  queuePollMs: number;
  queueBatch: number;
  /**
   * The deadline of one delivery attempt (DNS, every MX host, every command): past it the attempt
   * stops and the recipients are deferred.
   */
  attemptTimeoutMs: number;
  /**
   * How long a claim on a queued job lasts without renewal (RELAY_CLAIM_LEASE): the holder renews it
   * every third of that while its attempt runs (claim-heartbeat.ts), so a live relay keeps a long
   * attempt, and a relay that died leaves its jobs to the others about one lease later.
   */
  claimLeaseMs: number;
  /**
   * On SIGTERM, how long attempts in progress may still finish (RELAY_DRAIN_TIMEOUT); then they are
   * cut and their claims released, so another relay takes the jobs at once.
   */
  drainTimeoutMs: number;
  /**
   * After how long in the queue the sender is told, once, that its mail is still waiting (a
   * "delayed" DSN, RELAY_DELAY_WARNING); 0 or absent: never.
   */
  delayWarningMs?: number;
  /** Outbound rate limits (RELAY_LIMIT_*): recipients per window per account, tenant, remote domain. */
  outboundLimits: OutboundLimits;
}

/** Below this a renewal (every third of the lease) would race a loaded database's round trips. */
const MIN_CLAIM_LEASE_MS = 1_000;

const list = (value: string) =>
  value
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== '');

const DURATION = 'a duration such as 500ms, 30s, 5m, 2h or 5d';
const SCHEDULE = 'a comma-separated list of durations, e.g. 1m,5m,15m,1h,4h';

export const relayConfigSection = defineSection({
  variables: {
    RELAY_CONSUMER_GROUP: text('mta-relay'),
    RELAY_OUTBOUND_TOPIC: text('mail.outbound'),
    RELAY_ACCEPTED_TOPIC: text('mail.accepted'),
    RELAY_DEAD_LETTER_TOPIC: text('mail.outbound.dlq'),
    RELAY_EHLO_NAME: text(''),
    RELAY_DNS_SERVERS: dnsServerList(),
    RELAY_DNS_TIMEOUT: text('5s'),
    RELAY_SMTP_PORT: port({ default: 25 }),
    RELAY_TRANSPORT_MAP: text(''),
    RELAY_ALLOWED_NETWORKS: text(''),
    RELAY_SOURCE_ADDRESS: text(''),
    RELAY_REQUIRE_TLS_DOMAINS: text(''),
    RELAY_CONNECT_TIMEOUT: text('30s'),
    RELAY_COMMAND_TIMEOUT: text('5m'),
    RELAY_MAX_CONNECTIONS_PER_DOMAIN: integer({ min: 1, max: 1000, default: 5 }),
    RELAY_MAX_MESSAGES_PER_CONNECTION: integer({ min: 1, max: 100000, default: 100 }),
    RELAY_CONNECTION_IDLE: text('5s'),
    RELAY_RETRY_SCHEDULE: text('1m,5m,15m,30m,1h,2h,4h'),
    RELAY_MAX_LIFETIME: text('5d'),
    RELAY_QUEUE_POLL: text('5s'),
    RELAY_QUEUE_BATCH: integer({ min: 1, max: 1000, default: 20 }),
    RELAY_ATTEMPT_TIMEOUT: text('15m'),
    RELAY_CLAIM_LEASE: text('60s'),
    RELAY_DRAIN_TIMEOUT: text('10s'),
    RELAY_DELAY_WARNING: text('4h'),
    RELAY_LIMIT_WINDOW: text('1h'),
    RELAY_LIMIT_PER_ACCOUNT: integer({ min: 0, max: 100_000_000, default: 1000 }),
    RELAY_LIMIT_PER_TENANT: integer({ min: 0, max: 100_000_000, default: 10_000 }),
    RELAY_LIMIT_PER_DOMAIN: integer({ min: 0, max: 100_000_000, default: 10_000 }),
  },
  check(vars) {
    const issues: CrossCheckIssue[] = [];
    for (const name of [
      'RELAY_DNS_TIMEOUT',
      'RELAY_CONNECT_TIMEOUT',
      'RELAY_COMMAND_TIMEOUT',
      'RELAY_CONNECTION_IDLE',
      'RELAY_MAX_LIFETIME',
      'RELAY_QUEUE_POLL',
      'RELAY_ATTEMPT_TIMEOUT',
      'RELAY_DRAIN_TIMEOUT',
      'RELAY_LIMIT_WINDOW',
    ] as const) {
      const value = vars[name];
      if (value !== undefined && parseDuration(value) === undefined)
        issues.push({ variable: name, expected: DURATION });
    }
    if (vars.RELAY_CLAIM_LEASE !== undefined) {
      const lease = parseDuration(vars.RELAY_CLAIM_LEASE);
      if (lease === undefined || lease < MIN_CLAIM_LEASE_MS)
        issues.push({ variable: 'RELAY_CLAIM_LEASE', expected: `${DURATION}, at least 1s` });
    }
    if (
      vars.RELAY_DELAY_WARNING !== undefined &&
      vars.RELAY_DELAY_WARNING.trim() !== '0' &&
      parseDuration(vars.RELAY_DELAY_WARNING) === undefined
    ) {
      issues.push({ variable: 'RELAY_DELAY_WARNING', expected: `${DURATION}, or 0 for never` });
    }
    if (vars.RELAY_RETRY_SCHEDULE !== undefined && parseSchedule(vars.RELAY_RETRY_SCHEDULE) === undefined) {
      issues.push({ variable: 'RELAY_RETRY_SCHEDULE', expected: SCHEDULE });
    }
    if (vars.RELAY_TRANSPORT_MAP && parseTransportMap(vars.RELAY_TRANSPORT_MAP) === undefined) {
      issues.push({
        variable: 'RELAY_TRANSPORT_MAP',
        expected: 'comma-separated domain=host[:port] entries (IPv6 hosts in brackets)',
      });
    }
    if (vars.RELAY_ALLOWED_NETWORKS && !list(vars.RELAY_ALLOWED_NETWORKS).every(isCidr)) {
      issues.push({
        variable: 'RELAY_ALLOWED_NETWORKS',
        expected: 'a comma-separated list of CIDRs, e.g. 127.0.0.0/8',
      });
    }
    if (vars.RELAY_SOURCE_ADDRESS && isIP(vars.RELAY_SOURCE_ADDRESS.trim()) === 0) {
      issues.push({ variable: 'RELAY_SOURCE_ADDRESS', expected: 'an IPv4 or IPv6 address of this host' });
    }
    return issues;
  },
  build(vars, base): RelaySettings {
    const ms = (value: string) => parseDuration(value)!;
    return {
      group: vars.RELAY_CONSUMER_GROUP,
      outboundTopic: vars.RELAY_OUTBOUND_TOPIC,
      acceptedTopic: vars.RELAY_ACCEPTED_TOPIC,
      deadLetterTopic: vars.RELAY_DEAD_LETTER_TOPIC,
      maxAttempts: base.bus.maxAttempts,
      topicPartitions: base.bus.kafka.topicPartitions,
      ehloName: vars.RELAY_EHLO_NAME || hostname(),
      dnsServers: vars.RELAY_DNS_SERVERS,
      dnsTimeoutMs: ms(vars.RELAY_DNS_TIMEOUT),
      smtpPort: vars.RELAY_SMTP_PORT,
      transportMap: parseTransportMap(vars.RELAY_TRANSPORT_MAP)!,
      allowedNetworks: list(vars.RELAY_ALLOWED_NETWORKS),
      sourceAddress: vars.RELAY_SOURCE_ADDRESS.trim() || undefined,
      requireTlsDomains: list(vars.RELAY_REQUIRE_TLS_DOMAINS),
      connectTimeoutMs: ms(vars.RELAY_CONNECT_TIMEOUT),
      commandTimeoutMs: ms(vars.RELAY_COMMAND_TIMEOUT),
      maxConnectionsPerDomain: vars.RELAY_MAX_CONNECTIONS_PER_DOMAIN,
      maxMessagesPerConnection: vars.RELAY_MAX_MESSAGES_PER_CONNECTION,
      connectionIdleMs: ms(vars.RELAY_CONNECTION_IDLE),
      retrySchedule: parseSchedule(vars.RELAY_RETRY_SCHEDULE)!,
      maxLifetimeMs: ms(vars.RELAY_MAX_LIFETIME),
      queuePollMs: ms(vars.RELAY_QUEUE_POLL),
      queueBatch: vars.RELAY_QUEUE_BATCH,
      attemptTimeoutMs: ms(vars.RELAY_ATTEMPT_TIMEOUT),
      claimLeaseMs: ms(vars.RELAY_CLAIM_LEASE),
      drainTimeoutMs: ms(vars.RELAY_DRAIN_TIMEOUT),
      delayWarningMs: vars.RELAY_DELAY_WARNING.trim() === '0' ? 0 : ms(vars.RELAY_DELAY_WARNING),
      outboundLimits: {
        windowMs: ms(vars.RELAY_LIMIT_WINDOW),
        perAccount: vars.RELAY_LIMIT_PER_ACCOUNT,
        perTenant: vars.RELAY_LIMIT_PER_TENANT,
        perDomain: vars.RELAY_LIMIT_PER_DOMAIN,
      },
    };
  },
});
