-- The relay's deferred queue: outbound jobs that met a temporary failure and wait for their next
-- attempt. A table rather than Kafka retry topics: it survives restarts like any row, holds state
-- per recipient, is indexed by next attempt time, lets several relay pods share it with
-- FOR UPDATE SKIP LOCKED, and admin-api can list, retry and delete entries.

CREATE TABLE relay_queue (
  id bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  -- OutboundMessage.event_id: a job redelivered by the bus finds itself here.
  job_id text PRIMARY KEY CHECK (job_id <> ''),
  original_event_id text NOT NULL,
  -- '' for the null reverse-path (a bounce, which is never bounced).
  mail_from text NOT NULL,
  -- The sender's domain, lowercase; tenant-scoped admin queries filter on it.
  sender_domain text NOT NULL,
  destination_domain text NOT NULL CHECK (destination_domain <> ''),
  -- The encoded OutboundMessage as the relay received it.
  job bytea NOT NULL,
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  queued_at timestamptz NOT NULL,
  next_attempt_at timestamptz NOT NULL,
  -- queued_at + the relay's maximum lifetime: the job bounces when a retry fails after this.
  expires_at timestamptz NOT NULL,
  last_error text NOT NULL DEFAULT '',
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX relay_queue_due_idx ON relay_queue (next_attempt_at);
CREATE INDEX relay_queue_sender_domain_idx ON relay_queue (sender_domain);

-- The recipients of a queued job still waiting for delivery; delivered or bounced ones leave.
CREATE TABLE relay_queue_recipients (
  job_id text NOT NULL REFERENCES relay_queue (job_id) ON DELETE CASCADE,
  recipient text NOT NULL CHECK (recipient <> ''),
  last_reply text NOT NULL DEFAULT '',
  PRIMARY KEY (job_id, recipient)
);

-- The final outcome for each (job, recipient): what a redelivered job skips, and the history.
CREATE TABLE relay_outcomes (
  job_id text NOT NULL,
  recipient text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('delivered', 'bounced', 'expired', 'deleted')),
  reply text NOT NULL DEFAULT '',
  attempts integer NOT NULL CHECK (attempts >= 0),
  decided_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, recipient)
);
CREATE INDEX relay_outcomes_decided_at_idx ON relay_outcomes (decided_at);
