-- The index behind the (account_id, message_id) foreign key and the orphan checks becomes (message_id)
-- alone. A message id is unique in the whole table's sense already (a message sits in a few mailboxes at
-- most), so those lookups stay one index probe plus a filter on account_id. The account-leading index
-- offered the planner a second way to find "the rows of account A in mailbox M": a BitmapAnd of it and
-- (mailbox_id, modseq), which it costs as a handful of rows because it does not know that a mailbox
-- belongs to one account. It chose that over the primary key (mailbox_id, uid) for STORE, EXPUNGE and
-- the UID reads, and read every row version of the mailbox for one UID (25-45 buffers per lookup on a
-- 100-message mailbox, growing with dead rows until vacuum; docs/performance.md, IMAP fifth round).
-- One bigint narrower, the index is also cheaper to keep on every APPEND and delivery.
-- Built in the migration's transaction: it blocks writes to mailbox_messages while it builds (about a
-- second per million rows here), during the upgrade's migration Job (docs/kubernetes.md).
CREATE INDEX mailbox_messages_message_id_idx ON mailbox_messages (message_id);
DROP INDEX mailbox_messages_message_idx;
