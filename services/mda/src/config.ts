import { defineSection, integer, text } from '@correo/config';

/** What startMda needs besides its adapters; main.ts builds it from the MDA_* variables. */
export interface MdaSettings {
  /** The consumer group: every mda pod joins it, so each event is handled by one of them. */
  group: string;
  acceptedTopic: string;
  outboundTopic: string;
  deadLetterTopic: string;
  /** Failures of one event before it is dead-lettered (BUS_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** Partitions of the topics the mda creates when they are missing (KAFKA_TOPIC_PARTITIONS). */
  topicPartitions: number;
  /** Partitions of mail.accepted one mda process works on at once (Kafka; order kept per partition). */
  concurrency: number;
  /**
   * Most external addresses one message is forwarded to through aliases and catch-alls; the rest
   * are recorded as `forward-limit` rejections (against amplification; docs/security.md).
   */
  maxForwardsPerMessage: number;
}

export const mdaConfigSection = defineSection({
  variables: {
    MDA_CONSUMER_GROUP: text('mda'),
    MDA_ACCEPTED_TOPIC: text('mail.accepted'),
    MDA_OUTBOUND_TOPIC: text('mail.outbound'),
    MDA_DEAD_LETTER_TOPIC: text('mail.accepted.dlq'),
    MDA_CONCURRENCY: integer({ min: 1, max: 1000, default: 4 }),
    MDA_MAX_FORWARDS_PER_MESSAGE: integer({ min: 0, max: 1000, default: 25 }),
  },
  build(vars, base): MdaSettings {
    return {
      group: vars.MDA_CONSUMER_GROUP,
      acceptedTopic: vars.MDA_ACCEPTED_TOPIC,
      outboundTopic: vars.MDA_OUTBOUND_TOPIC,
      deadLetterTopic: vars.MDA_DEAD_LETTER_TOPIC,
      maxAttempts: base.bus.maxAttempts,
      topicPartitions: base.bus.kafka.topicPartitions,
      concurrency: vars.MDA_CONCURRENCY,
      maxForwardsPerMessage: vars.MDA_MAX_FORWARDS_PER_MESSAGE,
    };
  },
});
