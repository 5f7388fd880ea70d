import { observeMailboxChangeFanout } from '@correo/notify';
import { countWaitingDeadLetters, type Pool } from '@correo/store';
import { metrics } from '@correo/telemetry';

// The backends dashboard's "pool waits" and "S3 latency": what a request of ours waits for before
// PostgreSQL or S3 even answers is where a slow backend shows first.

const s3Requests = metrics.histogram({
  name: 'correo_s3_request_duration_seconds',
  help: 'S3 requests by SDK command (PutObject, GetObject...) and outcome, retries included.',
  labelNames: ['operation', 'outcome'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});

/** For S3BlobStoreOptions.onRequest. */
export function observeS3Request(operation: string, seconds: number, failed: boolean): void {
  s3Requests.observe({ operation, outcome: failed ? 'error' : 'ok' }, seconds);
}

const pools = new Set<Pool>();

// Read at each scrape: pg's pool keeps the counts, so nothing is updated on the query path.
metrics.gauge({
  name: 'correo_postgres_pool_clients',
  help: 'PostgreSQL pools of the process: connections in use and idle, and queries waiting for one.',
  labelNames: ['state'],
  collect() {
    let busy = 0;
    let idle = 0;
    let waiting = 0;
    for (const pool of pools) {
      busy += pool.totalCount - pool.idleCount;
      idle += pool.idleCount;
      waiting += pool.waitingCount;
    }
    this.set({ state: 'busy' }, busy);
    this.set({ state: 'idle' }, idle);
    this.set({ state: 'waiting' }, waiting);
  },
});

/** Counts `pool` in correo_postgres_pool_clients until the returned function is called. */
export function watchPool(pool: Pool): () => void {
  pools.add(pool);
  return () => void pools.delete(pool);
}

const deadLetterSources = new Set<{ pool: Pool; group: string }>();

// The DLQ size: archived dead letters nobody has replayed yet, per consumer group, read at each
// scrape (a database that does not answer leaves the sample out rather than a stale one).
metrics.gauge({
  name: 'correo_dead_letters_waiting',
  help: 'Dead letters of a consumer group archived and not replayed yet (the dead-letter queue size).',
  labelNames: ['group'],
  async collect() {
    this.reset();
    await Promise.all(
      [...deadLetterSources].map(async ({ pool, group }) => {
        try {
          this.set({ group }, await countWaitingDeadLetters(pool, group));
        } catch {
          // Unknown this time.
        }
      }),
    );
  },
});

/** Reports the waiting dead letters of `group` until the returned function is called. */
export function watchDeadLetters(pool: Pool, group: string): () => void {
  const source = { pool, group };
  deadLetterSources.add(source);
  return () => void deadLetterSources.delete(source);
}

const fanout = metrics.histogram({
  name: 'correo_notify_fanout_seconds',
  help: 'From a mailbox change published (on any pod) to each listening session of this process receiving it.',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
});
observeMailboxChangeFanout((seconds) => fanout.observe(seconds));
