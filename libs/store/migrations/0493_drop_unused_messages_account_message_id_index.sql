-- messages (account_id, header_message_id) served no query: threading matches thread_message_id
-- (messages_account_thread_message_idx), the journey looks Message-IDs up across accounts
-- (messages_header_message_id_idx), and SEARCH HEADER Message-ID is a substring test. It cost an index
-- entry on every APPEND and delivery, and, leading with account_id, it offered the planner an
-- account-wide walk for the foreign-key check from mailbox_messages (account_id = $1 AND id = $2): under
-- the statistics of a table's first minutes that check read 35-47 buffers where the unique
-- (account_id, id) index reads 3 (docs/performance.md, IMAP fifth round). Same reasoning as 0490.
DROP INDEX IF EXISTS messages_account_message_id_idx;
