import type { BlobStore } from '@correo/blobs';
import type { Bus } from '@correo/bus';
import { collectBlobs, pruneDecisions, pruneVacationReplies, recordUnclaimedBlobs } from '@correo/store';
import type { BlobCollectionPolicy, Pool } from '@correo/store';
import type { Logger } from '@correo/telemetry';
import { mdaMetrics } from './metrics.js';

/*
 * The mda's periodic erasure work (docs/security.md, "Erasure of message bodies"): delete the bytes of
 * blobs no row refers to any more, prune bus rows every consumer group has consumed, and delete the
 * spam and abuse decisions past their retention (docs/spam.md). It lives in
 * the mda because the mda already holds the store, the blobs and the bus, and runs in every
 * deployment (the all-in-one included).
 */

export interface HousekeepingSettings extends BlobCollectionPolicy {
  /** Seconds between two runs; 0 turns the periodic run off (the work can still be run on demand). */
  intervalSeconds: number;
  /** Seconds between two listings of the whole blob store in search of unclaimed blobs. */
  scanIntervalSeconds: number;
  /** The spam and abuse decisions (migrations/0330) are deleted after this many days. */
  decisionRetentionDays: number;
}

export interface HousekeepingRun {
  /** False when another process held the housekeeping lock: it is doing this run. */
  ran: boolean;
  blobsCollected: number;
  unclaimedFound: number;
  busMessagesPruned: number;
  decisionsPruned: number;
}

export interface Housekeeping {
  /** One run now; `scan` forces the listing of the blob store even if it is not due. */
  runOnce(options?: { scan?: boolean }): Promise<HousekeepingRun>;
  close(): Promise<void>;
}

/** Arbitrary constant: one housekeeping run at a time across every mda pod (the work is safe in parallel, just wasted). */
const HOUSEKEEPING_LOCK = '7212003310491060';

export function startHousekeeping(deps: {
  pool: Pool;
  blobs: BlobStore;
  bus: Bus;
  logger: Logger;
  settings: HousekeepingSettings;
  /** MDA_VACATION_MAX_DAYS: a vacation reply remembered longer answers no question any more. */
  vacationMaxDays?: number;
}): Housekeeping {
  const { pool, blobs, bus, settings } = deps;
  const logger = deps.logger.child({ component: 'housekeeping' });
  let lastScan = 0;
  let queue: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  async function work(scan: boolean): Promise<HousekeepingRun> {
    const client = await pool.connect();
    let broken = false;
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
        HOUSEKEEPING_LOCK,
      ]);
      if (!rows[0]?.locked)
        return { ran: false, blobsCollected: 0, unclaimedFound: 0, busMessagesPruned: 0, decisionsPruned: 0 };
      try {
        let unclaimedFound = 0;
        if (scan) {
          unclaimedFound = await recordUnclaimedBlobs(pool, blobs);
          lastScan = Date.now();
        }
        const collection = await collectBlobs(pool, blobs, settings);
        const busMessagesPruned = await bus.pruneConsumed();
        if (deps.vacationMaxDays !== undefined) {
          await pruneVacationReplies(pool, new Date(Date.now() - deps.vacationMaxDays * 86_400_000));
        }
        const decisionsPruned = await pruneDecisions(
          pool,
          new Date(Date.now() - settings.decisionRetentionDays * 86_400_000),
        );
        return {
          ran: true,
          blobsCollected: collection.collected.length,
          unclaimedFound,
          busMessagesPruned,
          decisionsPruned,
        };
      } finally {
        // A connection that could not give the session lock back must not return to the pool holding it.
        await client.query('SELECT pg_advisory_unlock($1)', [HOUSEKEEPING_LOCK]).catch(() => (broken = true));
      }
    } finally {
      client.release(broken);
    }
  }

  /** Runs one after the other in this process: a caller arriving mid-run gets a run of its own after it. */
  function runOnce(options: { scan?: boolean } = {}): Promise<HousekeepingRun> {
    const run = queue.then(async () => {
      const scan = options.scan ?? Date.now() - lastScan >= settings.scanIntervalSeconds * 1000;
      try {
        const result = await work(scan);
        if (result.ran) {
          mdaMetrics.blobsCollected.inc(result.blobsCollected);
          mdaMetrics.busMessagesPruned.inc(result.busMessagesPruned);
          mdaMetrics.housekeepingLastSuccess.setToCurrentTime();
          if (
            result.blobsCollected ||
            result.unclaimedFound ||
            result.busMessagesPruned ||
            result.decisionsPruned
          )
            logger.info(result, 'housekeeping');
        }
        return result;
      } catch (error) {
        mdaMetrics.housekeepingFailures.inc();
        throw error;
      }
    });
    queue = run.catch(() => undefined);
    return run;
  }

  function schedule() {
    if (closed || settings.intervalSeconds === 0) return;
    timer = setTimeout(() => {
      runOnce()
        .catch((error: unknown) => logger.warn({ error: (error as Error).message }, 'housekeeping failed'))
        .finally(schedule);
    }, settings.intervalSeconds * 1000);
    timer.unref();
  }
  schedule();

  return {
    runOnce,
    async close() {
      closed = true;
      clearTimeout(timer);
      await queue;
    },
  };
}
