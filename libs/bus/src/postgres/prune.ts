import type pg from 'pg';

/**
 * A group's committed offsets are also the record that it subscribes to a topic: a group appears
 * here at offset 0 for every partition the moment it subscribes, before it has consumed anything,
 * so pruning never removes a message a subscribed group has yet to see. (Offset 0 is where a group
 * without a committed offset starts anyway, so this changes nothing for delivery.)
 */
export async function registerGroup(
  client: pg.ClientBase,
  group: string,
  topic: string,
  partitions: number,
): Promise<void> {
  await client.query(
    `INSERT INTO bus.committed_offsets (group_id, topic, partition, next_offset)
     SELECT $1, $2, p, 0 FROM generate_series(0, $3::integer - 1) AS p
     ON CONFLICT (group_id, topic, partition) DO NOTHING`,
    [group, topic, partitions],
  );
}

/**
 * Deletes the messages below the lowest committed offset of every group of their topic, partition by
 * partition. A partition a known group never committed counts as offset 0; a topic without any group
 * (dead-letter topics, a topic whose consumers have not started) is left alone. A group that is gone
 * for good holds its topics back until an operator removes its rows from bus.committed_offsets.
 */
export async function pruneConsumedMessages(pool: pg.Pool): Promise<number> {
  const { rowCount } = await pool.query(
    `WITH groups AS (SELECT DISTINCT group_id, topic FROM bus.committed_offsets),
     floors AS (
       SELECT g.topic, p.partition, min(coalesce(c.next_offset, 0)) AS next_offset
       FROM groups g
       JOIN bus.topics t ON t.name = g.topic
       CROSS JOIN LATERAL generate_series(0, t.partitions - 1) AS p(partition)
       LEFT JOIN bus.committed_offsets c
         ON c.group_id = g.group_id AND c.topic = g.topic AND c.partition = p.partition
       GROUP BY g.topic, p.partition
     )
     DELETE FROM bus.messages m USING floors f
     WHERE m.topic = f.topic AND m.partition = f.partition AND m."offset" < f.next_offset`,
  );
  return rowCount ?? 0;
}
