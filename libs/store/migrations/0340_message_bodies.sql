-- Small message bodies kept in PostgreSQL, written by the mda in the filing transaction that names them
-- (MDA_DATABASE_BODY_BYTES): no blob file, no fsync of its own, only the filing's WAL flush. A row is
-- part of the blob store: the store's get falls back to it (libs/store message-bodies.ts), and it is
-- governed by the same references (messages, relay_queue, dead_letters) and the same collector as a
-- blob: when a key is collected its row goes in the collecting transaction (blob-collection.ts), so
-- erasure (account deletion) removes it like a blob.
CREATE TABLE message_bodies (
  blob_key text PRIMARY KEY CHECK (blob_key <> ''),
  bytes bytea NOT NULL
) WITH (toast_tuple_target = 8160);

-- Stored as given: compressing every body costs CPU on the filing path, and a 4 KB message stays in
-- its heap row up to the toast target (no TOAST table and index insert for the common small mail).
ALTER TABLE message_bodies ALTER COLUMN bytes SET STORAGE EXTERNAL;
