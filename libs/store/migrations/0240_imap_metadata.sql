-- IMAP METADATA (RFC 5464): annotations on the server ("" mailbox, mailbox_id NULL) and on mailboxes.
-- Every entry belongs to one account, /shared ones too (as Dovecot keeps them per user): no entry is
-- ever read across accounts, let alone tenants. A mailbox's entries go with it (ON DELETE CASCADE) and
-- follow it through RENAME (they hang on its id, not its name). Entry names are stored lowercased.
CREATE TABLE imap_metadata (
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  mailbox_id bigint,
  entry text NOT NULL CHECK (entry ~ '^/(private|shared)/' AND entry = lower(entry)),
  value bytea NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (account_id, mailbox_id) REFERENCES mailboxes (account_id, id) ON DELETE CASCADE
);
-- One value per (account, mailbox or server, entry); 0 stands for the server in the key only.
CREATE UNIQUE INDEX imap_metadata_entry_key ON imap_metadata (account_id, coalesce(mailbox_id, 0), entry);
