import { createHash } from 'node:crypto';
import pg from 'pg';
import type { OutgoingMessage } from '../port.js';
import { packBytes } from './packed-bytes.js';

export const NOTIFY_CHANNEL = 'correo_bus';

const { escapeLiteral } = pg;

/** Keyed messages always land on the same partition; keyless ones are spread round-robin. */
export class Partitioner {
  private next = 0;

  choose(key: string | undefined, partitions: number): number {
    if (key === undefined) return this.next++ % partitions;
    return createHash('sha256').update(key).digest().readUInt32BE(0) % partitions;
  }
}

/**
 * Appends messages, one statement per partition: inside the caller's transaction, or on a pool
 * when they go to a single partition (the statement is its own transaction). Partitions are locked
 * in ascending order so concurrent publishers cannot deadlock. It does not NOTIFY: PostgreSQL serialises the commits of
 * notifying transactions on one lock held through their WAL flush, which would make every publish
 * wait for every other one's fsync (see wakeConsumers).
 */
export async function appendMessages(
  client: pg.ClientBase | pg.Pool,
  topic: string,
  byPartition: Map<number, OutgoingMessage[]>,
): Promise<void> {
  for (const partition of [...byPartition.keys()].sort((a, b) => a - b)) {
    const batch = byPartition.get(partition) ?? [];
    const values = packBytes(batch.map((m) => m.value));
    // One statement: claim the offsets (the head row's lock orders concurrent publishers) and
    // insert the messages at them. A data-modifying CTE runs exactly once, and a single statement
    // is atomic on its own, so a publish to one partition needs no BEGIN/COMMIT round trips.
    await client.query({
      name: 'correo-bus-append',
      text: `WITH head AS (
         INSERT INTO bus.partition_heads (topic, partition, next_offset) VALUES ($1, $2, $3)
         ON CONFLICT (topic, partition) DO UPDATE SET next_offset = bus.partition_heads.next_offset + EXCLUDED.next_offset
         RETURNING next_offset)
       INSERT INTO bus.messages (topic, partition, "offset", key, value, headers)
       SELECT $1, $2, (SELECT next_offset FROM head) - $3::bigint + m.n - 1, m.key,
              substring($5::bytea FROM m.start FOR m.length), m.headers
       FROM unnest($4::text[], $6::int[], $7::int[], $8::jsonb[]) WITH ORDINALITY
         AS m(key, start, length, headers, n)`,
      values: [
        topic,
        partition,
        batch.length,
        batch.map((m) => m.key ?? null),
        values.bytes,
        values.starts,
        values.lengths,
        batch.map((m) => JSON.stringify(m.headers ?? {})),
      ],
    });
  }
}

/** Wakes the consumers of `topics` in other processes (LISTEN on NOTIFY_CHANNEL) once this commits. */
export async function wakeConsumers(db: pg.ClientBase | pg.Pool, topics: Iterable<string>): Promise<void> {
  for (const topic of topics) await db.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, topic]);
}

/**
 * Wakes the consumers of `topics` in other processes after a publish committed: one round trip, in a
 * transaction of its own that commits without waiting for its WAL flush. A notifying commit is a
 * commit record like any other (the queue entry carries the transaction id), and with
 * synchronous_commit on each wake-up cost a flush of its own, one per group commit of publishes
 * (docs/performance.md, fourth round). Losing it (a crash of PostgreSQL itself) loses a hint only:
 * consumers poll, and the messages it announced were flushed by their own commit.
 */
export async function wakeConsumersAfterCommit(db: pg.Pool, topics: Iterable<string>): Promise<void> {
  const notifies = [...topics].map((topic) => `NOTIFY ${NOTIFY_CHANNEL}, ${escapeLiteral(topic)};`);
  if (notifies.length === 0) return;
  await db.query(`BEGIN; SET LOCAL synchronous_commit TO off; ${notifies.join(' ')} COMMIT`);
}
