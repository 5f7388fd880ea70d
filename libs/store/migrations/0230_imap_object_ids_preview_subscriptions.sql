-- IMAP extensions (issue 11): OBJECTID THREADID (RFC 8474), PREVIEW (RFC 8970), and subscriptions
-- that outlive their mailbox (RFC 9051 6.3.7, LIST-EXTENDED \NonExistent).

-- THREADID: the thread a message joined when it was stored, never changed afterwards (RFC 8474 5.2:
-- a message's THREADID is stable). NULL means the message started its own thread, whose id is the
-- message's own id; rows from before this migration read that way, so nothing is backfilled.
ALTER TABLE messages ADD COLUMN thread_id bigint;
-- For the lookup below. SEARCH THREADID needs no index of its own: it runs within one mailbox's rows.
CREATE INDEX messages_account_thread_message_idx ON messages (account_id, thread_message_id)
  WHERE thread_message_id IS NOT NULL;

-- A new message that references others (References, else In-Reply-To) joins the thread of the oldest
-- message of the account it references; one that references none starts its own thread and costs no
-- lookup (most mail). Done in the insert itself, so every writer (delivery, APPEND) gets it and a
-- message never changes thread.
CREATE FUNCTION correo_message_thread() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.thread_id IS NULL AND cardinality(NEW.thread_references) > 0 THEN
    -- OFFSET 0 keeps the lookup on the index: with ORDER BY id LIMIT 1 alone the planner may walk the
    -- primary key from the account's first message instead (measured: milliseconds per insert).
    SELECT coalesce(p.thread_id, p.id) INTO NEW.thread_id
      FROM (SELECT m.id, m.thread_id FROM messages m
             WHERE m.account_id = NEW.account_id AND m.thread_message_id = ANY(NEW.thread_references)
            OFFSET 0) p
     ORDER BY p.id LIMIT 1;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER messages_thread BEFORE INSERT ON messages
  FOR EACH ROW EXECUTE FUNCTION correo_message_thread();

-- PREVIEW: up to 256 characters of the first text part, computed the first time a client asks (one
-- ranged read of that part) and kept; NULL until then.
ALTER TABLE messages ADD COLUMN preview text;

-- Subscribed names whose mailbox was deleted: still subscribed (a server must not drop them on its
-- own, RFC 9051 6.3.7), listed with \NonExistent by LIST (SUBSCRIBED) and LSUB until UNSUBSCRIBE or a
-- CREATE of the same name (which then is subscribed again). Names of existing mailboxes keep their
-- subscription in mailboxes.subscribed.
CREATE TABLE lingering_subscriptions (
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name text NOT NULL,
  PRIMARY KEY (account_id, name)
);
