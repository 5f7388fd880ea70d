-- IMAP STORE as one call (libs/store imap/flags.ts storeImapFlags): the statement it sent, unchanged in
-- what it does (read without locks; when something would change, the account lock, the rows locked and
-- re-read, one MODSEQ, the update), moved here for one reason: its plan. Sent as a prepared statement,
-- PostgreSQL compared the plan it had kept with one made for each call's values and, costing the kept
-- one for ten UIDs, a flag operation and an UNCHANGEDSINCE it did not know, planned the statement again
-- on every call (0.1-0.5 ms of a STORE's PostgreSQL CPU). A function's own plan_cache_mode keeps the one
-- plan, and the per-UID lookups below make that plan the right one for any number of UIDs.
--
-- Each UID's row is looked up on its own through the primary key (mailbox_id, uid): a LATERAL subquery per
-- element of the ascending UID list, kept apart by OFFSET 0 so that it cannot be turned into a join. With
-- `uid = ANY(...)` the planner scanned the whole mailbox through the (mailbox_id, modseq) index or combined
-- it with the account's, reading every version of every row of the mailbox for one UID (25-55 buffers twice
-- per STORE on a 100-message mailbox, growing with dead rows until vacuum; docs/performance.md, IMAP fifth
-- round). The rows are locked in that ascending order, as the ORDER BY uid FOR UPDATE before did, so two
-- STOREs on overlapping sets cannot deadlock.
CREATE FUNCTION correo_store_flags(
  p_account bigint, p_mailbox bigint, p_uids bigint[], p_operation text, p_flags text[], p_unchanged_since bigint)
RETURNS TABLE (stored_uid bigint, stored_modseq bigint, stored_flags text[], new_modseq bigint, new_flags text[])
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
  RETURN QUERY
  WITH probe AS (
    SELECT mm.uid, mm.modseq, mm.flags,
      CASE p_operation
        WHEN 'replace' THEN ARRAY(SELECT DISTINCT f FROM unnest(p_flags) f ORDER BY f)
        WHEN 'add' THEN ARRAY(SELECT DISTINCT f FROM unnest(mm.flags || p_flags) f ORDER BY f)
        ELSE ARRAY(SELECT f FROM unnest(mm.flags) f WHERE f <> ALL(p_flags) ORDER BY f)
      END AS next
    FROM unnest(p_uids) AS r(uid), LATERAL (
      SELECT m.uid, m.modseq, m.flags FROM mailbox_messages m
      WHERE m.mailbox_id = p_mailbox AND m.uid = r.uid AND m.account_id = p_account OFFSET 0
    ) mm
  ), wanted AS (
    SELECT p.uid FROM probe p
    WHERE (p_unchanged_since IS NULL OR p.modseq <= p_unchanged_since) AND NOT (p.flags @> p.next AND p.next @> p.flags)
  ), account AS (
    SELECT a.id FROM accounts a WHERE a.id = p_account AND EXISTS (SELECT 1 FROM wanted) FOR UPDATE
  ), target AS (
    -- The flags computed again, as in probe, from the row as locked (its newest version). Written out
    -- twice on purpose: as an SQL function the expression is not inlined (it holds sub-selects) and its
    -- body was planned on every call (+0.04 ms per STORE, measured).
    SELECT mm.uid, mm.modseq, mm.flags,
      CASE p_operation
        WHEN 'replace' THEN ARRAY(SELECT DISTINCT f FROM unnest(p_flags) f ORDER BY f)
        WHEN 'add' THEN ARRAY(SELECT DISTINCT f FROM unnest(mm.flags || p_flags) f ORDER BY f)
        ELSE ARRAY(SELECT f FROM unnest(mm.flags) f WHERE f <> ALL(p_flags) ORDER BY f)
      END AS next
    FROM unnest(p_uids) AS r(uid), LATERAL (
      SELECT m.uid, m.modseq, m.flags FROM mailbox_messages m
      WHERE m.mailbox_id = p_mailbox AND m.uid = r.uid AND m.account_id = p_account
        AND EXISTS (SELECT 1 FROM account)
      FOR UPDATE OFFSET 0
    ) mm
  ), changing AS (
    SELECT t.uid, t.next FROM target t
    WHERE (p_unchanged_since IS NULL OR t.modseq <= p_unchanged_since) AND NOT (t.flags @> t.next AND t.next @> t.flags)
  ), allocated AS (
    UPDATE mailboxes mb SET highestmodseq = mb.highestmodseq + 1
    WHERE mb.id = p_mailbox AND mb.account_id = p_account AND EXISTS (SELECT 1 FROM changing)
    RETURNING mb.highestmodseq AS modseq
  ), updated_one AS (
    -- One UID (most STOREs: a client marking a message): the row named by the whole primary key, which
    -- PostgreSQL costs as one row whatever its statistics say. The join below, planned for "some" rows,
    -- walked the mailbox through (mailbox_id, modseq) when the statistics made a mailbox look small.
    UPDATE mailbox_messages mm SET flags = (SELECT c.next FROM changing c), modseq = (SELECT a.modseq FROM allocated a)
    WHERE mm.mailbox_id = p_mailbox AND mm.uid = p_uids[array_lower(p_uids, 1)] AND mm.account_id = p_account
      AND cardinality(p_uids) = 1 AND EXISTS (SELECT 1 FROM changing)
    RETURNING mm.uid, mm.modseq, mm.flags
  ), updated_many AS (
    UPDATE mailbox_messages mm SET flags = c.next, modseq = a.modseq
    FROM changing c, allocated a
    WHERE mm.mailbox_id = p_mailbox AND mm.uid = c.uid AND mm.account_id = p_account
      AND cardinality(p_uids) > 1 AND EXISTS (SELECT 1 FROM changing)
    RETURNING mm.uid, mm.modseq, mm.flags
  ), updated AS (
    SELECT * FROM updated_one UNION ALL SELECT * FROM updated_many
  )
  SELECT t.uid, t.modseq, t.flags, u.modseq, u.flags
  FROM target t LEFT JOIN updated u ON u.uid = t.uid
  UNION ALL
  SELECT p.uid, p.modseq, p.flags, NULL::bigint, NULL::text[] FROM probe p WHERE NOT EXISTS (SELECT 1 FROM account)
  ORDER BY 1;
END
$$;
