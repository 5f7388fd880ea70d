-- correo_expunge_messages (0390) with plans made once per connection, written to stay key lookups on
-- stale statistics too (what is left is said at the end). Same two statements, same guarantees: read
-- 0390's comment, the freeing stays a statement of its own, whose snapshot sees the removal and any
-- copy committed before the lock.
--
-- Why: PL/pgSQL caches each statement's plan, but its plan cache compares the generic plan with custom
-- ones and, on the statistics of the moment, kept planning the freeing statement on every call (as
-- long as running it); and a custom plan of the removal, on statistics a busy mailbox had outgrown
-- (autovacuum analyses once a minute at best), found its row through a BitmapAnd of the two secondary
-- indexes, (account_id, message_id) and (mailbox_id, modseq), reading tens of heap blocks for one row.
--
-- So:
-- * every statement uses its generic plan (SET plan_cache_mode; it also reaches the foreign-key and
--   trigger statements run inside the call);
-- * the removal names the mailbox and the UIDs only, the primary key (mailbox_id, uid): the account is
--   checked once, on the mailbox row, in the statement that takes the account lock (a mailbox's rows
--   carry its account_id, by the foreign key (account_id, mailbox_id)), so no index on account_id
--   competes with the key;
-- * one UID (EXPUNGE after one \Deleted, a MOVE of one message, most POP3 DELEs) is removed by
--   equality with the array's one element: equality on every column of a unique index is costed as
--   one row whatever the statistics, where `uid = ANY(p_uids)` is costed as ten lookups (a generic
--   plan cannot know the array's length) and, on statistics taken while the mailboxes held a few
--   messages (the benchmark's tables, filled faster than autovacuum analyses), lost to a walk of the
--   mailbox's (mailbox_id, modseq) entries. The two removals are gated on cardinality(p_uids), so
--   only one of them runs;
-- * the freeing finds messages by id (their primary key) and asks the index on mailbox_messages'
--   message_id (with account_id until 0491), message by message, whether a mailbox still holds them
--   (OFFSET 0 keeps that a correlated lookup: as an anti-join, ten guessed ids made a hash of the
--   whole table look cheaper on such statistics);
-- * no bitmap scans (SET enable_bitmapscan): for several UIDs, on a small table, a bitmap scan of the
--   whole mailbox's (mailbox_id, modseq) entries looked as cheap as ten key probes.
-- libs/store/test/expunge.test.ts checks the plans on statistics that favoured the bad ones.
-- Left: several UIDs on such stale statistics may still walk the mailbox's entries until the next
-- ANALYZE replans; and statistics that make mailbox_id look unique (each mailbox seen once) leave no
-- plan cheaper than another, for one UID too.
CREATE OR REPLACE FUNCTION correo_expunge_messages(p_account bigint, p_mailbox bigint, p_uids bigint[], p_only_deleted boolean)
RETURNS TABLE (expunged_uid bigint, expunged_modseq bigint)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_bitmapscan = off
AS $$
DECLARE
  v_uids bigint[];
  v_message_ids bigint[];
  v_modseq bigint;
BEGIN
  WITH account AS (
    SELECT a.id FROM accounts a JOIN mailboxes mb ON mb.account_id = a.id
    WHERE a.id = p_account AND mb.id = p_mailbox
    FOR UPDATE OF a
  ), removed_one AS (
    DELETE FROM mailbox_messages mm
    WHERE cardinality(p_uids) = 1 AND mm.mailbox_id = p_mailbox AND mm.uid = p_uids[array_lower(p_uids, 1)]
      AND EXISTS (SELECT 1 FROM account)
      AND (NOT p_only_deleted OR '\Deleted' = ANY(mm.flags))
    RETURNING mm.uid, mm.message_id
  ), removed_many AS (
    DELETE FROM mailbox_messages mm
    WHERE cardinality(p_uids) <> 1 AND mm.mailbox_id = p_mailbox AND mm.uid = ANY(p_uids)
      AND EXISTS (SELECT 1 FROM account)
      AND (NOT p_only_deleted OR '\Deleted' = ANY(mm.flags))
    RETURNING mm.uid, mm.message_id
  ), removed AS (
    SELECT uid, message_id FROM removed_one UNION ALL SELECT uid, message_id FROM removed_many
  ), allocated AS (
    UPDATE mailboxes SET highestmodseq = highestmodseq + 1
    WHERE id = p_mailbox AND EXISTS (SELECT 1 FROM removed)
    RETURNING highestmodseq
  ), recorded AS (
    INSERT INTO expunged (mailbox_id, uid, modseq) SELECT p_mailbox, r.uid, a.highestmodseq FROM removed r, allocated a
  )
  SELECT array_agg(r.uid ORDER BY r.uid), array_agg(r.message_id), max(a.highestmodseq)
    INTO v_uids, v_message_ids, v_modseq
    FROM removed r, allocated a;
  IF v_modseq IS NULL THEN
    RETURN;
  END IF;
  -- As freeOrphans (libs/store imap/account-transaction.ts): the bytes go back to the quota. The ids
  -- are those of rows just removed from this account's mailbox, so of this account's messages.
  WITH freed AS (
    DELETE FROM messages m
    WHERE m.id = ANY(v_message_ids)
      AND NOT EXISTS (
        SELECT 1 FROM mailbox_messages mm WHERE mm.account_id = m.account_id AND mm.message_id = m.id OFFSET 0
      )
    RETURNING m.size
  )
  UPDATE accounts SET used_bytes = greatest(0, used_bytes - f.bytes)
    FROM (SELECT coalesce(sum(size), 0) AS bytes FROM freed) f
    WHERE id = p_account AND f.bytes > 0;
  RETURN QUERY SELECT u, v_modseq FROM unnest(v_uids) AS u;
END
$$;
