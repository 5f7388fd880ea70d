import { metrics } from '@correo/telemetry';

/** Declared once per process; several relay instances (tests, all-in-one) share the series. */
export const relayMetrics = {
  queueDepth: metrics.gauge({
    name: 'correo_relay_queue_depth',
    help: 'Outbound jobs waiting in the deferred queue (relay_queue rows).',
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
    help: 'Failures that got no DSN: the failed message was itself a bounce, or NOTIFY said not to.',
  }),
};
