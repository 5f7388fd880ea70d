-- Sieve vacation (RFC 5230 4.2, issue 14): when each account last answered each sender, per
-- vacation series (:handle, or a hash of the reply's text). The mda claims a row before it hands
-- the reply on; `event_id` is the event that claimed it, so a redelivery of that same event sends
-- the same reply again (same job id: the relay and the mda keep one) while another message from the
-- sender within the period sends nothing. Deleted with the account.
CREATE TABLE sieve_vacation_replies (
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  sender text NOT NULL,
  handle text NOT NULL,
  replied_at timestamptz NOT NULL,
  event_id text NOT NULL,
  PRIMARY KEY (account_id, sender, handle)
);
-- What housekeeping prunes: a row older than the longest period answers nothing.
CREATE INDEX sieve_vacation_replies_replied_at ON sieve_vacation_replies (replied_at);
