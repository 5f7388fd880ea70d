-- A dead letter an operator has not replayed yet is a reference to its message's body: replaying it
-- must find the bytes (see 0060_blob_collection.sql). Once replayed, the event is back in the bus and
-- the body is released like any other (the released grace period covers its new delivery).
ALTER TABLE dead_letters ADD COLUMN blob_key text;
CREATE INDEX dead_letters_pending_blob_idx ON dead_letters (blob_key) WHERE replay_count = 0;

CREATE TRIGGER dead_letters_blob_added AFTER INSERT ON dead_letters
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION blob_references_added();

-- Released by a replay (replay_count leaves 0) or by deleting the row.
CREATE FUNCTION dead_letter_blobs_released() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO blob_candidates (blob_key, reason)
    SELECT DISTINCT o.blob_key, 'released' FROM before_update o JOIN after_update n ON n.id = o.id
    WHERE o.blob_key IS NOT NULL AND o.replay_count = 0 AND n.replay_count > 0
  ON CONFLICT (blob_key) DO UPDATE SET reason = 'released', since = now()
    WHERE blob_candidates.collected_at IS NULL;
  RETURN NULL;
END
$$;
CREATE TRIGGER dead_letters_blob_replayed AFTER UPDATE ON dead_letters
  REFERENCING OLD TABLE AS before_update NEW TABLE AS after_update
  FOR EACH STATEMENT EXECUTE FUNCTION dead_letter_blobs_released();
CREATE TRIGGER dead_letters_blob_removed AFTER DELETE ON dead_letters
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION blob_references_removed();
