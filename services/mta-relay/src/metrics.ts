import { metrics } from '@correo/telemetry';

/** Declared once per process; several relay instances (tests, all-in-one) share the series. */
export const relayMetrics = {
  queueDepth: metrics.gauge({
    name: 'correo_relay_queue_depth',
    help: 'Outbound jobs in the queue (relay_queue rows): waiting for their next attempt, or being attempted.',
  }),
  queueByDomain: metrics.gauge<'domain'>({
    name: 'correo_relay_queue_domain_jobs',
    help: 'Jobs in the deferred queue per destination domain, for the 20 domains with most (per-domain deferrals).',
    labelNames: ['domain'],
  }),
  oldestAge: metrics.gauge({
    name: 'correo_relay_queue_oldest_age_seconds',
    help: 'Age of the oldest job in the deferred queue, from when it was first queued (0 when empty).',
  }),
  attempts: metrics.counter({
    name: 'correo_relay_attempts_total',
    help: 'Delivery attempts of an outbound job (one per job and try, however many MX hosts).',
  }),
  outcomes: metrics.counter({
    name: 'correo_relay_recipient_outcomes_total',
    help: 'Recipients per attempt outcome: delivered, deferred, bounced, expired.',
    labelNames: ['outcome'],
  }),
  rateLimited: metrics.counter({
    name: 'correo_relay_rate_limited_total',
    help: 'Recipients whose attempt waited for an outbound rate limit (per account, tenant or remote domain).',
  }),
  claimsLost: metrics.counter({
    name: 'correo_relay_claims_lost_total',
    help: 'Attempts that found their queue claim taken by another relay: they sent and recorded nothing more.',
  }),
  claimsReleased: metrics.counter({
    name: 'correo_relay_claims_released_total',
    help: 'Attempts cut by a stopping relay (RELAY_DRAIN_TIMEOUT): their jobs were handed back, due at once.',
  }),
  deadLettered: metrics.counter({
    name: 'correo_relay_dead_lettered_total',
    help: 'Outbound jobs that failed BUS_MAX_ATTEMPTS times by themselves and went to the dead-letter topic.',
  }),
  dsnSent: metrics.counter({
    name: 'correo_relay_dsn_sent_total',
    help: 'Delivery status notifications published to the sender.',
  }),
  dsnSuppressed: metrics.counter({
    name: 'correo_relay_dsn_suppressed_total',
    help: 'Failures that got no DSN: the failed message was itself a bounce, NOTIFY said not to, or its forwarded sender failed SPF/DMARC.',
  }),
};
