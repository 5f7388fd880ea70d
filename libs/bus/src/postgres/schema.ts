import type pg from 'pg';

/**
 * The embedded bus's tables. Offsets are allocated per (topic, partition) by bumping
 * partition_heads.next_offset under its row lock, so publishers of one partition commit in
 * offset order and a consumer never sees offset n+1 before offset n.
 */
const DDL = `
CREATE SCHEMA IF NOT EXISTS bus;
CREATE TABLE IF NOT EXISTS bus.topics (
  name text PRIMARY KEY,
  partitions integer NOT NULL CHECK (partitions > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS bus.partition_heads (
  topic text NOT NULL REFERENCES bus.topics (name),
  partition integer NOT NULL,
  next_offset bigint NOT NULL,
  PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS bus.messages (
  topic text NOT NULL,
  partition integer NOT NULL,
  "offset" bigint NOT NULL,
  key text,
  value bytea NOT NULL,
  headers jsonb NOT NULL DEFAULT '{}'::jsonb,
  published_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, partition, "offset")
);
CREATE TABLE IF NOT EXISTS bus.committed_offsets (
  group_id text NOT NULL,
  topic text NOT NULL,
  partition integer NOT NULL,
  next_offset bigint NOT NULL,
  committed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, topic, partition)
);
-- Where a group resumes on a partition. One definition for the consumer's own commit and for a
-- handler that commits the offset in its own transaction (the mda's filing, libs/store migration 0380).
CREATE OR REPLACE FUNCTION bus.commit_offset(p_group text, p_topic text, p_partition integer, p_next bigint)
RETURNS void LANGUAGE sql AS $fn$
  INSERT INTO bus.committed_offsets (group_id, topic, partition, next_offset) VALUES (p_group, p_topic, p_partition, p_next)
  ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, committed_at = now()
$fn$;
`;

/** Idempotent; the advisory lock keeps processes that start together from racing on CREATE. */
export async function createBusSchema(pool: pg.Pool): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('correo.bus.schema', 0))`);
    await client.query(DDL);
  });
}

/** Runs `work` in one transaction on a pooled connection: committed if it resolves, rolled back if not. */
export async function inTransaction(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<void>,
): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await work(client);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
