-- Webmail: the senders whose remote images a user chose to always show ("always for this sender").
-- Per account, deleted with it; the sender is kept lowercased so a lookup is one index probe.
CREATE TABLE webmail_image_senders (
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  sender text NOT NULL CHECK (sender = lower(sender) AND length(sender) <= 320),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, sender)
);
