import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';
import type { TopicSpec } from '../port.js';

const LEADER_WAIT_MS = 30_000;

/**
 * Creates the topics that are missing ("already exists" is success) and waits until every
 * partition has a leader: in KRaft a new topic is briefly without one, and producing or
 * joining a group before that fails.
 */
export async function createTopics(admin: Admin, topics: TopicSpec[], replicationFactor: number) {
  if (topics.length === 0) return;
  await admin.createTopics({
    topics: topics.map((t) => ({ topic: t.name, numPartitions: t.partitions, replicationFactor })),
    waitForLeaders: true,
    timeout: LEADER_WAIT_MS,
  });
  await waitForLeaders(
    admin,
    topics.map((t) => t.name),
  );
}

async function waitForLeaders(admin: Admin, names: string[]): Promise<void> {
  const deadline = Date.now() + LEADER_WAIT_MS;
  for (;;) {
    let problem: string;
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: names });
      const leaderless = topics.filter(
        (t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0),
      );
      if (leaderless.length === 0) return;
      problem = `no leader yet for ${leaderless.map((t) => t.name).join(', ')}`;
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) throw new Error(`Kafka topics ${names.join(', ')} not ready: ${problem}`);
    await sleep(100);
  }
}
