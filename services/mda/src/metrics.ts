import type { RejectionReason } from '@correo/store';
import { metrics } from '@correo/telemetry';

/** Declared once per process; several mda instances (tests, all-in-one) share the series. */
export const mdaMetrics = {
  delivered: metrics.counter({
    name: 'correo_mda_delivered_total',
    help: 'Messages filed into a mailbox (one per account and message).',
  }),
  rejected: metrics.counter({
    name: 'correo_mda_rejected_total',
    help: 'Recipients not delivered, by reason (unknown-user, loop, over-quota, relay-denied, forward-limit).',
    labelNames: ['reason'],
  }),
  outboundPublished: metrics.counter({
    name: 'correo_mda_outbound_published_total',
    help: 'OutboundMessage jobs published to the relay (one per destination domain and event).',
  }),
  sieveRuns: metrics.counter({
    name: 'correo_mda_sieve_runs_total',
    help: 'Active Sieve scripts run at delivery, and what they sent, by outcome (ran, parse-error, runtime-error: kept instead; redirected, redirect-loop, redirect-over-limit; vacation-sent, vacation-skipped, vacation-suppressed, vacation-already-replied, vacation-over-limit; reject-sent, reject-suppressed; limits-unavailable).',
    labelNames: ['outcome'],
  }),
  deadLettered: metrics.counter({
    name: 'correo_mda_dead_lettered_total',
    help: 'mail.accepted events that failed every attempt and went to the dead-letter topic.',
  }),
  deliveryLatency: metrics.histogram({
    name: 'correo_mda_delivery_latency_seconds',
    help: 'From acceptance by smtp-ingress (received_at) to the committed mailbox insert.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  }),
  blobsCollected: metrics.counter({
    name: 'correo_blobs_collected_total',
    help: 'Message bodies deleted from the blob store because no row referred to them any more.',
  }),
  busMessagesPruned: metrics.counter({
    name: 'correo_bus_messages_pruned_total',
    help: 'Rows of the Postgres-table bus removed after every consumer group had consumed them.',
  }),
  housekeepingFailures: metrics.counter({
    name: 'correo_housekeeping_failures_total',
    help: 'Housekeeping runs (blob collection, bus pruning) that failed; the next run tries again.',
  }),
  housekeepingLastSuccess: metrics.gauge({
    name: 'correo_housekeeping_last_success_timestamp_seconds',
    help: 'When housekeeping last completed: erasure is late when this falls behind the interval.',
  }),
  decisions: metrics.counter<'outcome' | 'reason'>({
    name: 'correo_mda_decisions_total',
    help: 'Filing decisions the mda recorded (GET /v1/decisions), by outcome (junk) and reason (dmarc-quarantine).',
    labelNames: ['outcome', 'reason'],
  }),
};

// Every reason starts at 0, so the rejection panels show a flat line rather than "No data" on
// a system that has not rejected anything yet (e2e/test/dashboards-data.test.ts). The record
// type makes a new RejectionReason fail to compile until it is listed here.
const REJECTION_REASONS: Record<RejectionReason, true> = {
  'unknown-user': true,
  loop: true,
  'over-quota': true,
  'relay-denied': true,
  'forward-limit': true,
};
for (const reason of Object.keys(REJECTION_REASONS)) mdaMetrics.rejected.inc({ reason }, 0);
