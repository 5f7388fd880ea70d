-- IMAP EXPUNGE of one message (libs/store expunge.ts expungeMessages): correo_expunge_messages (0390,
-- 0480) for one UID, without what serves many: the union of its one-UID and many-UID deletes, the
-- aggregates that carry the UIDs to the second statement, and the RETURN QUERY over them. A client's
-- EXPUNGE or UID EXPUNGE usually removes the one message it has just marked \Deleted. The steps, the
-- locks, the two statements and their plans are those of correo_expunge_messages (its comments say why):
--
-- 1. The account row locked first (and the mailbox found to be the account's), the row removed (only if
--    it still holds \Deleted, for EXPUNGE), HIGHESTMODSEQ moved on and the UID recorded for VANISHED,
--    in one statement.
-- 2. In a second statement, which sees a COPY committed while the first waited for the lock: the message
--    row deleted if no mailbox holds it any more, and its bytes given back to the quota.
CREATE FUNCTION correo_expunge_message(p_account bigint, p_mailbox bigint, p_uid bigint, p_only_deleted boolean)
RETURNS TABLE (expunged_uid bigint, expunged_modseq bigint)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_bitmapscan = off
AS $$
DECLARE
  v_message_id bigint;
BEGIN
  WITH account AS (
    SELECT a.id FROM accounts a JOIN mailboxes mb ON mb.account_id = a.id
    WHERE a.id = p_account AND mb.id = p_mailbox
    FOR UPDATE OF a
  ), removed AS (
    DELETE FROM mailbox_messages mm
    WHERE mm.mailbox_id = p_mailbox AND mm.uid = p_uid AND EXISTS (SELECT 1 FROM account)
      AND (NOT p_only_deleted OR '\Deleted' = ANY(mm.flags))
    RETURNING mm.uid, mm.message_id
  ), allocated AS (
    UPDATE mailboxes SET highestmodseq = highestmodseq + 1
    WHERE id = p_mailbox AND EXISTS (SELECT 1 FROM removed)
    RETURNING highestmodseq
  ), recorded AS (
    INSERT INTO expunged (mailbox_id, uid, modseq) SELECT p_mailbox, r.uid, a.highestmodseq FROM removed r, allocated a
  )
  SELECT r.message_id, a.highestmodseq INTO v_message_id, expunged_modseq FROM removed r, allocated a;
  IF expunged_modseq IS NULL THEN
    RETURN;
  END IF;
  WITH freed AS (
    DELETE FROM messages m
    WHERE m.id = v_message_id
      AND NOT EXISTS (
        SELECT 1 FROM mailbox_messages mm WHERE mm.account_id = m.account_id AND mm.message_id = m.id OFFSET 0
      )
    RETURNING m.size
  )
  UPDATE accounts SET used_bytes = greatest(0, used_bytes - f.size)
    FROM freed f
    WHERE id = p_account AND f.size > 0;
  expunged_uid := p_uid;
  RETURN NEXT;
END
$$;
