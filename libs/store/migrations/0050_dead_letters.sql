-- Dead letters an operator can list, read and replay (admin-api /v1/dead-letters, correo-admin dlq).
-- The bus moves a message that failed by itself to its dead-letter topic; each consuming service
-- archives the dead letters of its own consumer group here, once per original position, so that
-- listing and replaying never needs a Kafka consumer group of its own and works the same on the
-- PostgreSQL-table bus. Replaying publishes the original message again; the row stays as the record.

CREATE TABLE dead_letters (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  consumer_group text NOT NULL,
  topic text NOT NULL,
  partition integer NOT NULL,
  "offset" bigint NOT NULL,
  message_key text,
  headers jsonb NOT NULL DEFAULT '{}'::jsonb,
  value bytea NOT NULL,
  error text NOT NULL,
  attempts integer NOT NULL,
  failed_at timestamptz NOT NULL,
  archived_at timestamptz NOT NULL DEFAULT now(),
  replay_count integer NOT NULL DEFAULT 0,
  last_replayed_at timestamptz,
  -- The dead-letter topic is at-least-once too: a redelivered letter finds its row.
  UNIQUE (consumer_group, topic, partition, "offset")
);
-- `dlq list` shows what still waits for an operator first.
CREATE INDEX dead_letters_pending_idx ON dead_letters (id) WHERE replay_count = 0;
