-- IMAP STORE of one message (libs/store imap/flags.ts storeImapFlags): what correo_store_flags (0492)
-- does for one UID, as a few small statements instead of its one large one. Most STOREs name one
-- message (a client marking it read, flagged or deleted), and for them the large statement's plan cost
-- more to set up than its work: 0.20 ms of PostgreSQL's time per call, of which 0.09 ms ran the
-- statement (pg_stat_statements, docs/performance.md, IMAP seventh round). The steps and the locks are
-- the same:
--
-- 1. The row is read without locks. A STORE that changes nothing (the flags already so, or the message
--    modified since UNCHANGEDSINCE) is answered from that read, takes no lock and writes nothing. Whether
--    the flags change is decided on the sets (add: already all there; remove: none there; replace: the
--    same set), which is what comparing the computed next flags as sets decided.
-- 2. Otherwise the account row is locked first, as every write to an account's mailboxes does, so
--    MODSEQs commit in the order they are handed out; then the message row, read again at its newest
--    version (FOR UPDATE) with its next flags computed from it.
-- 3. Only if they still change, the mailbox's MODSEQ moves on and the row gets it, in one statement.
--
-- The answer has the shape of correo_store_flags's: the row as read (as locked, once locked) and, when
-- it changed, its new MODSEQ and flags; no row when the message is not in the mailbox.
CREATE FUNCTION correo_store_flag(
  p_account bigint, p_mailbox bigint, p_uid bigint, p_operation text, p_flags text[], p_unchanged_since bigint)
RETURNS TABLE (stored_uid bigint, stored_modseq bigint, stored_flags text[], new_modseq bigint, new_flags text[])
LANGUAGE plpgsql AS $$
DECLARE
  v_locked boolean;
BEGIN
  SELECT m.modseq, m.flags INTO stored_modseq, stored_flags FROM mailbox_messages m
    WHERE m.mailbox_id = p_mailbox AND m.uid = p_uid AND m.account_id = p_account;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  stored_uid := p_uid;
  IF (p_unchanged_since IS NOT NULL AND stored_modseq > p_unchanged_since)
    OR (CASE p_operation
      WHEN 'replace' THEN stored_flags @> p_flags AND p_flags @> stored_flags
      WHEN 'add' THEN stored_flags @> p_flags
      ELSE NOT (stored_flags && p_flags)
    END) THEN
    RETURN NEXT;
    RETURN;
  END IF;

  SELECT true INTO v_locked FROM accounts a WHERE a.id = p_account FOR UPDATE;
  IF NOT FOUND THEN
    -- No account (deleted meanwhile): nothing is changed, as in correo_store_flags.
    RETURN NEXT;
    RETURN;
  END IF;
  SELECT m.modseq, m.flags,
    CASE p_operation
      WHEN 'replace' THEN ARRAY(SELECT DISTINCT f FROM unnest(p_flags) f ORDER BY f)
      WHEN 'add' THEN ARRAY(SELECT DISTINCT f FROM unnest(m.flags || p_flags) f ORDER BY f)
      ELSE ARRAY(SELECT f FROM unnest(m.flags) f WHERE f <> ALL(p_flags) ORDER BY f)
    END
  INTO stored_modseq, stored_flags, new_flags
  FROM mailbox_messages m
  WHERE m.mailbox_id = p_mailbox AND m.uid = p_uid AND m.account_id = p_account
  FOR UPDATE;
  IF NOT FOUND THEN
    -- Expunged while this waited for the lock: left out of the answer.
    RETURN;
  END IF;
  IF (p_unchanged_since IS NOT NULL AND stored_modseq > p_unchanged_since)
    OR (stored_flags @> new_flags AND new_flags @> stored_flags) THEN
    new_flags := NULL;
    RETURN NEXT;
    RETURN;
  END IF;

  WITH allocated AS (
    UPDATE mailboxes mb SET highestmodseq = mb.highestmodseq + 1
    WHERE mb.id = p_mailbox AND mb.account_id = p_account
    RETURNING mb.highestmodseq AS modseq
  )
  UPDATE mailbox_messages mm SET flags = new_flags, modseq = (SELECT a.modseq FROM allocated a)
  WHERE mm.mailbox_id = p_mailbox AND mm.uid = p_uid AND mm.account_id = p_account
  RETURNING mm.modseq INTO new_modseq;
  RETURN NEXT;
END
$$;
