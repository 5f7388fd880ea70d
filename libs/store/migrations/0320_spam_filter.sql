-- The spam filter (issue 14, docs/spam.md): per-domain thresholds that override the operator's
-- defaults for mail to that domain, and the outbox of Rspamd training jobs that IMAP moves into and
-- out of Junk leave behind (worked by the mda's background loop; the IMAP command never waits on Rspamd).

-- NULL = the default (SPAM_JUNK_SCORE; Rspamd's own reject action). Scoped by tenant through the
-- domain, deleted with it.
CREATE TABLE domain_spam_settings (
  domain_id bigint PRIMARY KEY REFERENCES domains (id) ON DELETE CASCADE,
  reject_score double precision CHECK (reject_score BETWEEN -1000 AND 1000),
  junk_score double precision CHECK (junk_score BETWEEN -1000 AND 1000),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT domain_spam_settings_junk_below_reject CHECK (
    reject_score IS NULL OR junk_score IS NULL OR junk_score <= reject_score
  )
);

-- One message to learn as spam or ham, written in the transaction of the COPY/MOVE that asked for it
-- (durable: a crash after the IMAP OK still learns). Deleted once Rspamd took it; a failure waits
-- next_attempt_at (growing back-off) and gives up after the mda's attempt limit. Gone with the message.
CREATE TABLE spam_training_jobs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id bigint NOT NULL,
  message_id bigint NOT NULL,
  class text NOT NULL CHECK (class IN ('spam', 'ham')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (account_id, message_id) REFERENCES messages (account_id, id) ON DELETE CASCADE
);
CREATE INDEX spam_training_jobs_due_idx ON spam_training_jobs (next_attempt_at);
CREATE INDEX spam_training_jobs_message_idx ON spam_training_jobs (account_id, message_id);
