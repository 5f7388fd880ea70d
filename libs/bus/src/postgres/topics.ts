import type pg from 'pg';
import type { TopicSpec } from '../port.js';

/** Partition counts never change once a topic exists, so each process caches them. */
export class TopicCatalog {
  private readonly partitions = new Map<string, number>();

  async ensure(db: pg.Pool | pg.ClientBase, topics: TopicSpec[]): Promise<void> {
    for (const topic of topics) {
      await db.query(
        'INSERT INTO bus.topics (name, partitions) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
        [topic.name, topic.partitions],
      );
    }
  }

  /** Like Kafka with auto-creation off: an unknown topic is an error, not a silent new topic. */
  async partitionsOf(db: pg.Pool | pg.ClientBase, topic: string): Promise<number> {
    const known = this.partitions.get(topic);
    if (known !== undefined) return known;
    const { rows } = await db.query<{ partitions: number }>(
      'SELECT partitions FROM bus.topics WHERE name = $1',
      [topic],
    );
    const count = rows[0]?.partitions;
    if (count === undefined)
      throw new Error(`bus topic ${topic} does not exist (create it with ensureTopics)`);
    this.partitions.set(topic, count);
    return count;
  }
}
