-- messages_account_idx (account_id) duplicates the leading column of the unique (account_id, id) index,
-- which serves every lookup by account alone as well. It cost an index entry on every APPEND and
-- delivery, and it misled the planner: with no statistics yet (a fresh install's first minute, every
-- benchmark run) the foreign-key check from mailbox_messages picked it over the unique index and
-- filtered the whole account's messages for one row (111 buffers instead of 3; docs/performance.md,
-- IMAP fifth round).
DROP INDEX IF EXISTS messages_account_idx;
