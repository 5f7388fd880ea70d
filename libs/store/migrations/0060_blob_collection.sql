-- Blob collection: message bodies leave the blob store once nothing in the store refers to them
-- (expunged mail, deleted mailboxes and accounts, intake that was refused after its body was written).
-- The collector (src/blob-collection.ts) works from the store's references only, never from the shape
-- of a blob key; docs/security.md, "Erasure of message bodies", explains why it is safe.
--
-- A reference is a messages row or a relay_queue row naming the blob. Blobs are content-addressed, so
-- one blob can be referenced by many rows and re-used by a later delivery of the same bytes.

CREATE INDEX messages_blob_key_idx ON messages (blob_key);

-- The relay's deferred jobs read their body from the blob store at every attempt.
ALTER TABLE relay_queue ADD COLUMN blob_key text;
CREATE INDEX relay_queue_blob_key_idx ON relay_queue (blob_key);

-- Blobs that may have no reference left.
--   released:  the last reference went away (a trigger below records every deleted reference);
--   unclaimed: found in the blob store with no reference (intake refused after the body was written).
-- collected_at set: the bytes were deleted at that time. The row stays for a while as a fence: a writer
-- that stored the same bytes before the deletion and references them after it is refused (SQLSTATE
-- CB001) instead of pointing at bytes that are gone.
CREATE TABLE blob_candidates (
  blob_key text PRIMARY KEY CHECK (blob_key <> ''),
  reason text NOT NULL CHECK (reason IN ('released', 'unclaimed')),
  since timestamptz NOT NULL DEFAULT now(),
  collected_at timestamptz
);
CREATE INDEX blob_candidates_due_idx ON blob_candidates (since) WHERE collected_at IS NULL;
CREATE INDEX blob_candidates_fence_idx ON blob_candidates (collected_at) WHERE collected_at IS NOT NULL;

-- One advisory lock per blob key. Writers take it shared (waiting), the collector exclusive (trying
-- only), so the collector's "no reference" check and its deletion cannot interleave with a reference
-- being added (see blob-collection.ts).
CREATE FUNCTION blob_lock_key(key text) RETURNS bigint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT hashtextextended('correo.blob/' || key, 0) $$;

-- After rows referencing blobs were added: wait for any collection of those blobs to finish, refuse a
-- blob whose bytes were collected (the writer stores them again and retries), and take the blobs off
-- the candidate list (they are referenced again).
CREATE FUNCTION blob_references_added() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  key text;
BEGIN
  FOR key IN SELECT DISTINCT blob_key FROM added WHERE blob_key IS NOT NULL ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock_shared(blob_lock_key(key));
  END LOOP;
  SELECT c.blob_key INTO key FROM blob_candidates c
    WHERE c.collected_at IS NOT NULL AND c.blob_key IN (SELECT blob_key FROM added)
    LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'blob % was collected; store its bytes again', key
      USING ERRCODE = 'CB001', DETAIL = key;
  END IF;
  DELETE FROM blob_candidates WHERE blob_key IN (SELECT blob_key FROM added);
  RETURN NULL;
END
$$;

-- After rows referencing blobs were deleted (directly or by ON DELETE CASCADE from a mailbox, account,
-- domain or tenant): their blobs become candidates. Whether another row still refers to them is the
-- collector's question, asked under the blob's lock.
CREATE FUNCTION blob_references_removed() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO blob_candidates (blob_key, reason)
    SELECT DISTINCT blob_key, 'released' FROM removed WHERE blob_key IS NOT NULL
  ON CONFLICT (blob_key) DO UPDATE SET reason = 'released', since = now()
    WHERE blob_candidates.collected_at IS NULL;
  RETURN NULL;
END
$$;

CREATE TRIGGER messages_blob_added AFTER INSERT ON messages
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION blob_references_added();
CREATE TRIGGER messages_blob_removed AFTER DELETE ON messages
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION blob_references_removed();
CREATE TRIGGER relay_queue_blob_added AFTER INSERT ON relay_queue
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION blob_references_added();
CREATE TRIGGER relay_queue_blob_removed AFTER DELETE ON relay_queue
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION blob_references_removed();
