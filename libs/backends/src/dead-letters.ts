import { decodeDeadLetter, type Bus, type Subscription } from '@correo/bus';
import { archiveDeadLetter, getDeadLetter, recordDeadLetterReplay, type Pool } from '@correo/store';
import type { StoredDeadLetter } from '@correo/store';
import type { Logger } from '@correo/telemetry';
import { watchDeadLetters } from './metrics.js';

/** Marks a replayed message, so logs and traces tell a replay from the first delivery. */
export const REPLAY_HEADER = 'correo-replay-of-dead-letter';

export interface DeadLetterArchiveOptions {
  /** The consumer group whose dead letters this archives (the service's own group). */
  group: string;
  deadLetterTopic: string;
  logger: Logger;
  /**
   * The blob the original message names (the service decodes its own events): while the letter
   * waits for a replay, the blob collector keeps that body.
   */
  blobKeyOf?: (value: Buffer) => string | undefined;
}

/**
 * Copies the dead letters of one consumer group from its dead-letter topic into the store, where
 * admin-api lists and replays them. A topic may be shared by several groups (and, in tests, by
 * several deployments on one broker), so only letters of `group` are kept. Writing the row is the
 * only work here: a database outage stalls this consumer like any other and loses nothing.
 */
export async function startDeadLetterArchive(
  bus: Bus,
  pool: Pool,
  options: DeadLetterArchiveOptions,
): Promise<Subscription> {
  const log = options.logger.child({ component: 'dead-letter-archive', topic: options.deadLetterTopic });
  // A value the service cannot decode names no blob it could find anyway.
  const blobKeyOf = (value: Buffer) => {
    try {
      return options.blobKeyOf?.(value);
    } catch {
      return undefined;
    }
  };
  const unwatch = watchDeadLetters(pool, options.group);
  const subscribed = bus.subscribe({
    group: `${options.group}.dlq-archive`,
    topic: options.deadLetterTopic,
    // Not a `.dlq.dlq` topic: a letter this archive cannot store goes back onto the same topic
    // under the archive's own group name, which the filter below skips, so it never loops.
    deadLetterTopic: options.deadLetterTopic,
    handler: async (message) => {
      let letter;
      try {
        letter = decodeDeadLetter(message.value);
      } catch (error) {
        log.error(
          { partition: message.partition, offset: message.offset, error: (error as Error).message },
          'unreadable dead letter skipped; it stays on the topic',
        );
        return;
      }
      if (letter.group !== options.group) return;
      const { group, topic, partition, offset, key, headers, value, error, attempts } = letter;
      const first = await archiveDeadLetter(pool, {
        group,
        topic,
        partition,
        offset,
        key,
        headers,
        value,
        error,
        attempts,
        failedAt: new Date(letter.failedAt),
        blobKey: blobKeyOf(value),
      });
      if (first) log.warn({ topic, partition, offset, error }, 'dead letter archived for an operator');
    },
  });
  const subscription = await subscribed.catch((error: unknown) => {
    unwatch();
    throw error;
  });
  return {
    stalled: () => subscription.stalled(),
    async stop() {
      unwatch();
      await subscription.stop();
    },
  };
}

/**
 * Publishes a dead letter's original message to its original topic again, through the normal
 * path: every consumer is idempotent (the mda's delivery keys, the relay's job ids), so replaying a
 * letter twice, or one whose first delivery got further than it seemed, files the mail once.
 */
export async function replayDeadLetter(bus: Bus, pool: Pool, id: string): Promise<StoredDeadLetter | null> {
  const letter = await getDeadLetter(pool, id);
  if (!letter) return null;
  await bus.publish(letter.topic, [
    {
      ...(letter.key === undefined ? {} : { key: letter.key }),
      value: letter.value,
      headers: { ...letter.headers, [REPLAY_HEADER]: letter.id },
    },
  ]);
  return recordDeadLetterReplay(pool, id);
}
