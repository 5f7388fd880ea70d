-- Recipients the mda could not deliver to, and why. One row per (event, recipient, account), so a
-- redelivered event finds its earlier decision instead of deciding again (an over-quota recipient
-- must not get the message later just because space was freed between two deliveries of one event).
-- The relay's bounce (DSN) reads these rows.
CREATE TABLE delivery_rejections (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id text NOT NULL CHECK (event_id <> ''),
  -- The envelope recipient, lowercased, as in deliveries.
  recipient text NOT NULL CHECK (recipient <> '' AND recipient = lower(recipient)),
  -- The account the recipient resolved to; NULL when it resolved to none (unknown user, loop).
  -- No foreign key: the record must outlive the account it names.
  account_id bigint,
  reason text NOT NULL CHECK (reason IN ('unknown-user', 'loop', 'over-quota', 'relay-denied')),
  detail text NOT NULL DEFAULT '',
  rejected_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX delivery_rejections_key ON delivery_rejections (event_id, recipient, coalesce(account_id, 0));
CREATE INDEX delivery_rejections_rejected_at_idx ON delivery_rejections (rejected_at);
