import { defineSection, integer, optionalText, text, url } from '@correo/config';
import type { HousekeepingSettings } from './housekeeping.js';
import type { SpamTrainingSettings } from './spam-training.js';
import type { VacationSettings } from './sieve-replies.js';

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
  /**
   * A body carried in its event (smtp-ingress SMTP_INLINE_BODY_BYTES) up to this many bytes is kept in
   * PostgreSQL (message_bodies) by the filing transaction instead of a blob file or object; 0: never
   * (MDA_DATABASE_BODY_BYTES; docs/configuration.md).
   */
  databaseBodyBytes: number;
  /** Blob collection and bus pruning (docs/security.md, "Erasure of message bodies"). */
  housekeeping: HousekeepingSettings;
  /** Learning from moves into/out of Junk (docs/spam.md); undefined when RSPAMD_CONTROLLER_URL is unset. */
  spamTraining?: SpamTrainingSettings;
  /** The bounds a Sieve vacation's :days is clamped to (MDA_VACATION_MIN_DAYS / _MAX_DAYS). */
  vacation: VacationSettings;
}

const DAY = 86_400;

/** MDA_DATABASE_BODY_BYTES's default: most mail is smaller; bigger bodies keep the blob store. */
export const databaseBodyBytesDefault = 64 * 1024;

/** The shipped housekeeping settings (docs/configuration.md); tests start from these. */
export const housekeepingDefaults: HousekeepingSettings = {
  intervalSeconds: 300,
  scanIntervalSeconds: DAY,
  releasedGraceSeconds: 3600,
  unclaimedGraceSeconds: 7 * DAY,
  fenceSeconds: DAY,
  decisionRetentionDays: 30,
};

export const mdaConfigSection = defineSection({
  variables: {
    MDA_CONSUMER_GROUP: text('mda'),
    MDA_ACCEPTED_TOPIC: text('mail.accepted'),
    MDA_OUTBOUND_TOPIC: text('mail.outbound'),
    MDA_DEAD_LETTER_TOPIC: text('mail.accepted.dlq'),
    MDA_CONCURRENCY: integer({ min: 1, max: 1000, default: 4 }),
    MDA_MAX_FORWARDS_PER_MESSAGE: integer({ min: 0, max: 1000, default: 25 }),
    MDA_DATABASE_BODY_BYTES: integer({ min: 0, max: 1024 * 1024, default: databaseBodyBytesDefault }),
    MDA_VACATION_MIN_DAYS: integer({ min: 1, max: 365, default: 1 }),
    MDA_VACATION_MAX_DAYS: integer({ min: 1, max: 365, default: 30 }),
    MDA_HOUSEKEEPING_INTERVAL_SECONDS: integer({
      min: 0,
      max: DAY,
      default: housekeepingDefaults.intervalSeconds,
    }),
    MDA_BLOB_SCAN_INTERVAL_SECONDS: integer({
      min: 1,
      max: 30 * DAY,
      default: housekeepingDefaults.scanIntervalSeconds,
    }),
    MDA_RELEASED_BLOB_GRACE_SECONDS: integer({
      min: 0,
      max: 30 * DAY,
      default: housekeepingDefaults.releasedGraceSeconds,
    }),
    MDA_UNCLAIMED_BLOB_GRACE_SECONDS: integer({
      min: 0,
      max: 365 * DAY,
      default: housekeepingDefaults.unclaimedGraceSeconds,
    }),
    MDA_COLLECTED_BLOB_FENCE_SECONDS: integer({
      min: 60,
      max: 30 * DAY,
      default: housekeepingDefaults.fenceSeconds,
    }),
    RSPAMD_CONTROLLER_URL: url(['http', 'https']).optional(),
    RSPAMD_PASSWORD: optionalText(),
    MDA_SPAM_TRAINING_INTERVAL_MS: integer({ min: 0, max: 3600000, default: 5000 }),
    MDA_SPAM_TRAINING_MAX_ATTEMPTS: integer({ min: 1, max: 1000, default: 12 }),
    MDA_DECISION_RETENTION_DAYS: integer({
      min: 1,
      max: 3650,
      default: housekeepingDefaults.decisionRetentionDays,
    }),
  },
  secrets: ['RSPAMD_PASSWORD'],
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
      databaseBodyBytes: vars.MDA_DATABASE_BODY_BYTES,
      vacation: {
        minDays: vars.MDA_VACATION_MIN_DAYS,
        maxDays: Math.max(vars.MDA_VACATION_MIN_DAYS, vars.MDA_VACATION_MAX_DAYS),
      },
      housekeeping: {
        intervalSeconds: vars.MDA_HOUSEKEEPING_INTERVAL_SECONDS,
        scanIntervalSeconds: vars.MDA_BLOB_SCAN_INTERVAL_SECONDS,
        releasedGraceSeconds: vars.MDA_RELEASED_BLOB_GRACE_SECONDS,
        unclaimedGraceSeconds: vars.MDA_UNCLAIMED_BLOB_GRACE_SECONDS,
        fenceSeconds: vars.MDA_COLLECTED_BLOB_FENCE_SECONDS,
        decisionRetentionDays: vars.MDA_DECISION_RETENTION_DAYS,
      },
      spamTraining: vars.RSPAMD_CONTROLLER_URL
        ? {
            controllerUrl: vars.RSPAMD_CONTROLLER_URL,
            password: vars.RSPAMD_PASSWORD ?? '',
            intervalMs: vars.MDA_SPAM_TRAINING_INTERVAL_MS,
            timeoutMs: 30000,
            maxAttempts: vars.MDA_SPAM_TRAINING_MAX_ATTEMPTS,
          }
        : undefined,
    };
  },
});
