-- IMAP EXPUNGE (and POP3's UPDATE state) in one round trip (libs/store expunge.ts). Two statements, as
-- before, but run here: the first locks the account row (the lock order every change to an account
-- takes), removes the mailbox rows, hands out one MODSEQ and records the VANISHED UIDs; the second
-- frees the messages no mailbox holds any more. The second must be a statement of its own: it needs a
-- snapshot taken after the first one's lock was granted and that sees the first one's deletions, or
-- a copy committed meanwhile (COPY, a delivery of the same message) would go unseen and its messages
-- row be deleted with it (ON DELETE CASCADE). A PL/pgSQL function gives each statement its own
-- snapshot in READ COMMITTED, in one call: the client's BEGIN, two statements and COMMIT were four
-- wake-ups of this backend and of the gateway's event loop.
CREATE FUNCTION correo_expunge_messages(p_account bigint, p_mailbox bigint, p_uids bigint[], p_only_deleted boolean)
RETURNS TABLE (expunged_uid bigint, expunged_modseq bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_uids bigint[];
  v_message_ids bigint[];
  v_modseq bigint;
BEGIN
  WITH account AS (
    SELECT id FROM accounts WHERE id = p_account FOR UPDATE
  ), removed AS (
    DELETE FROM mailbox_messages mm
    WHERE mm.account_id = p_account AND mm.mailbox_id = p_mailbox AND mm.uid = ANY(p_uids)
      AND EXISTS (SELECT 1 FROM account)
      AND (NOT p_only_deleted OR '\Deleted' = ANY(mm.flags))
    RETURNING mm.uid, mm.message_id
  ), allocated AS (
    UPDATE mailboxes SET highestmodseq = highestmodseq + 1
    WHERE id = p_mailbox AND account_id = p_account AND EXISTS (SELECT 1 FROM removed)
    RETURNING highestmodseq
  ), recorded AS (
    INSERT INTO expunged (mailbox_id, uid, modseq) SELECT p_mailbox, r.uid, a.highestmodseq FROM removed r, allocated a
  )
  SELECT array_agg(r.uid ORDER BY r.uid), array_agg(r.message_id ORDER BY r.uid), max(a.highestmodseq)
    INTO v_uids, v_message_ids, v_modseq
    FROM removed r, allocated a;
  IF v_modseq IS NULL THEN
    RETURN;
  END IF;
  -- As freeOrphans (libs/store imap/account-transaction.ts): the bytes go back to the quota.
  WITH freed AS (
    DELETE FROM messages m WHERE m.account_id = p_account AND m.id = ANY(v_message_ids)
      AND NOT EXISTS (SELECT 1 FROM mailbox_messages mm WHERE mm.account_id = p_account AND mm.message_id = m.id)
    RETURNING m.size
  )
  UPDATE accounts SET used_bytes = greatest(0, used_bytes - f.bytes)
    FROM (SELECT coalesce(sum(size), 0) AS bytes FROM freed) f
    WHERE id = p_account AND f.bytes > 0;
  RETURN QUERY SELECT u, v_modseq FROM unnest(v_uids) AS u;
END
$$;
