-- The mda's filing of a bus batch as one server-side call (libs/store delivery.ts
-- deliverManyToMailboxes; docs/design.md "Filing"). It was ten statements with BEGIN and COMMIT, each
-- a round trip and a wake-up of PostgreSQL: lock the accounts, find the mailboxes (and create the
-- missing ones), find earlier outcomes, allocate UIDs and MODSEQs and charge quotas, draw message
-- ids, insert messages, file them (mailbox_messages, deliveries), keep small bodies. Now one
-- `SELECT * FROM file_deliveries(...)`, a statement of its own and so its own transaction: all or
-- nothing, one WAL flush. On the PostgreSQL-table bus the consumed offset rides in the same
-- transaction (o_* arguments), so a batch's filing and its offset commit are one flush, not two.
--
-- Arguments are parallel arrays, one element per delivery (d_*: the copy; m_*: its messages row, in
-- insertMessages' column order; b_*: where its body is in the packed b_bytes, NULL when it has none to
-- keep). Deliveries are decided in the order given, exactly as when filed one by one:
--   - the accounts are locked in id order (concurrent batches cannot deadlock), and every later
--     statement runs after the lock, so it sees what a concurrent filing of the same event committed;
--   - (event, recipient, mailbox) already delivered, or (event, recipient, account) already refused,
--     here or earlier in the batch: 'duplicate', nothing written;
--   - an account that no longer exists: 'unknown-user', recorded in delivery_rejections (without an
--     account, as the mda records a recipient it cannot resolve);
--   - a quota the copy does not fit: 'over-quota', recorded in delivery_rejections, nothing charged;
--   - otherwise 'delivered': the mailbox's next UID and MODSEQ (per mailbox, in the order given),
--     the quota charged, a messages row, a mailbox_messages row with its idempotency key, a
--     deliveries row, and the body in message_bodies when it has one (after the messages row, whose
--     insert trigger holds the key's blob lock until the commit).
-- Returns one row per delivery, in the order given.
CREATE FUNCTION file_deliveries(
  d_account bigint[], d_mailbox text[], d_event text[], d_recipient text[], d_flags jsonb[],
  m_blob_key text[], m_size bigint[], m_sha256 text[], m_internal_date timestamptz[],
  m_subject text[], m_from text[], m_to text[], m_cc text[], m_message_id text[],
  m_date timestamptz[], m_in_reply_to text[], m_envelope jsonb[], m_bodystructure jsonb[],
  m_sent_day date[], m_internal_day date[], m_header_text text[], m_body_text text[],
  m_sort_subject text[], m_sort_from text[], m_sort_to text[], m_sort_cc text[],
  m_sort_display_from text[], m_sort_display_to text[], m_thread_message_id text[],
  m_thread_references jsonb[],
  b_bytes bytea, b_start int[], b_length int[],
  o_group text, o_topic text, o_partition int, o_next_offset bigint
) RETURNS TABLE (
  out_kind text, out_mailbox bigint, out_uid bigint, out_modseq bigint, out_message bigint,
  out_quota bigint, out_used bigint
)
LANGUAGE plpgsql AS $$
DECLARE
  n int := coalesce(cardinality(d_account), 0);
  -- The locked accounts, by position: id, quota, used bytes as the batch goes, bytes charged.
  acc_ids bigint[] := '{}';
  acc_quota bigint[] := '{}';
  acc_used bigint[] := '{}';
  acc_charged bigint[] := '{}';
  acc record;
  -- Per delivery: its mailbox, whether an earlier filing handled it, and what happens to it.
  mailbox bigint[];
  earlier boolean[];
  kinds text[] := array_fill(NULL::text, ARRAY[n]);
  quotas bigint[] := array_fill(NULL::bigint, ARRAY[n]);
  useds bigint[] := array_fill(NULL::bigint, ARRAY[n]);
  nth bigint[] := array_fill(NULL::bigint, ARRAY[n]);
  handled text[] := '{}';
  refused int[] := '{}';
  gone int[] := '{}';
  filed int[] := '{}';
  -- Per mailbox that files something: id, copies, first UID and the MODSEQ before the batch.
  box_ids bigint[] := '{}';
  box_count bigint[] := '{}';
  box_first_uid bigint[];
  box_base_modseq bigint[];
  message_ids bigint[];
  a int;
  b int;
  copy_key text;
  refusal_key text;
BEGIN
  IF n = 0 THEN
    RETURN;
  END IF;

  FOR acc IN
    SELECT ac.id, ac.quota_bytes, ac.used_bytes FROM accounts ac
     WHERE ac.id = ANY (d_account) ORDER BY ac.id FOR UPDATE
  LOOP
    acc_ids := array_append(acc_ids, acc.id);
    acc_quota := array_append(acc_quota, acc.quota_bytes);
    acc_used := array_append(acc_used, acc.used_bytes);
    acc_charged := array_append(acc_charged, 0::bigint);
  END LOOP;

  -- Created by the first delivery to it. Looked for first: ON CONFLICT alone would burn an identity
  -- value on every delivery; ON CONFLICT still covers a concurrent first delivery.
  INSERT INTO mailboxes (account_id, name)
  SELECT DISTINCT k.account_id, k.name FROM unnest(d_account, d_mailbox) AS k(account_id, name)
   WHERE k.account_id = ANY (acc_ids)
     AND NOT EXISTS (SELECT 1 FROM mailboxes mb WHERE mb.account_id = k.account_id AND mb.name = k.name)
  ON CONFLICT (account_id, name) DO NOTHING;

  SELECT array_agg(mb.id ORDER BY k.i),
         array_agg(mb.id IS NOT NULL AND (
                     EXISTS (SELECT 1 FROM deliveries dl
                              WHERE dl.event_id = k.event_id AND dl.recipient = k.recipient
                                AND dl.mailbox_id = mb.id)
                     OR EXISTS (SELECT 1 FROM delivery_rejections rj
                                 WHERE rj.event_id = k.event_id AND rj.recipient = k.recipient
                                   AND rj.account_id = k.account_id))
                   ORDER BY k.i)
    INTO mailbox, earlier
    FROM unnest(d_account, d_mailbox, d_event, d_recipient) WITH ORDINALITY
           AS k(account_id, name, event_id, recipient, i)
    LEFT JOIN mailboxes mb
      ON mb.account_id = k.account_id AND mb.name = k.name AND k.account_id = ANY (acc_ids);

  FOR i IN 1..n LOOP
    a := array_position(acc_ids, d_account[i]);
    IF a IS NULL THEN
      kinds[i] := 'unknown-user';
      gone := array_append(gone, i);
      CONTINUE;
    END IF;
    copy_key := d_event[i] || '/' || d_recipient[i] || '/' || mailbox[i];
    refusal_key := d_event[i] || '/' || d_recipient[i] || '/@' || d_account[i];
    IF earlier[i] OR copy_key = ANY (handled) OR refusal_key = ANY (handled) THEN
      kinds[i] := 'duplicate';
      CONTINUE;
    END IF;
    IF acc_quota[a] IS NOT NULL AND acc_used[a] + m_size[i] > acc_quota[a] THEN
      kinds[i] := 'over-quota';
      quotas[i] := acc_quota[a];
      useds[i] := acc_used[a];
      handled := array_append(handled, refusal_key);
      refused := array_append(refused, i);
      CONTINUE;
    END IF;
    handled := array_append(handled, copy_key);
    acc_used[a] := acc_used[a] + m_size[i];
    acc_charged[a] := acc_charged[a] + m_size[i];
    b := array_position(box_ids, mailbox[i]);
    IF b IS NULL THEN
      box_ids := array_append(box_ids, mailbox[i]);
      box_count := array_append(box_count, 0::bigint);
      b := cardinality(box_ids);
    END IF;
    nth[i] := box_count[b];
    box_count[b] := box_count[b] + 1;
    kinds[i] := 'delivered';
    filed := array_append(filed, i);
  END LOOP;

  INSERT INTO delivery_rejections (event_id, recipient, account_id, reason, detail)
  SELECT d_event[i], d_recipient[i], d_account[i], 'over-quota',
         m_size[i] || ' bytes do not fit: ' || useds[i] || ' of ' || quotas[i] || ' bytes used'
    FROM unnest(refused) AS r(i)
  UNION ALL
  SELECT DISTINCT d_event[i], d_recipient[i], NULL::bigint, 'unknown-user', 'account deleted before delivery'
    FROM unnest(gone) AS g(i)
  ON CONFLICT (event_id, recipient, coalesce(account_id, 0)) DO NOTHING;

  IF cardinality(filed) > 0 THEN
    UPDATE accounts ac SET used_bytes = ac.used_bytes + c.bytes
      FROM unnest(acc_ids, acc_charged) AS c(id, bytes)
     WHERE ac.id = c.id AND c.bytes > 0;

    WITH allocated AS (
      UPDATE mailboxes mb SET uidnext = mb.uidnext + c.n, highestmodseq = mb.highestmodseq + c.n
        FROM unnest(box_ids, box_count) AS c(id, n)
       WHERE mb.id = c.id
      RETURNING mb.id, mb.uidnext - c.n AS first_uid, mb.highestmodseq - c.n AS base_modseq)
    SELECT array_agg(al.first_uid ORDER BY c.k), array_agg(al.base_modseq ORDER BY c.k)
      INTO box_first_uid, box_base_modseq
      FROM unnest(box_ids) WITH ORDINALITY AS c(id, k)
      LEFT JOIN allocated al ON al.id = c.id;
    IF array_position(box_first_uid, NULL) IS NOT NULL THEN
      RAISE EXCEPTION 'a mailbox was deleted while mail was filed into it';
    END IF;

    SELECT array_agg(nextval(pg_get_serial_sequence('messages', 'id')))
      INTO message_ids FROM generate_series(1, cardinality(filed));

    INSERT INTO messages (id, account_id, blob_key, size, sha256, internal_date, received_event_id,
       header_subject, header_from, header_to, header_cc, header_message_id, header_date, header_in_reply_to,
       envelope_json, bodystructure_json, sent_day, internal_day, header_text, body_text,
       sort_subject, sort_from, sort_to, sort_cc, sort_display_from, sort_display_to,
       thread_message_id, thread_references, sort_keys_filled)
    OVERRIDING SYSTEM VALUE
    SELECT message_ids[f.j], d_account[f.i], m_blob_key[f.i], m_size[f.i], m_sha256[f.i],
           m_internal_date[f.i], d_event[f.i], m_subject[f.i], m_from[f.i], m_to[f.i], m_cc[f.i],
           m_message_id[f.i], m_date[f.i], m_in_reply_to[f.i], m_envelope[f.i], m_bodystructure[f.i],
           m_sent_day[f.i], m_internal_day[f.i], m_header_text[f.i], m_body_text[f.i],
           m_sort_subject[f.i], m_sort_from[f.i], m_sort_to[f.i], m_sort_cc[f.i],
           m_sort_display_from[f.i], m_sort_display_to[f.i], m_thread_message_id[f.i],
           ARRAY(SELECT jsonb_array_elements_text(m_thread_references[f.i])), TRUE
      FROM unnest(filed) WITH ORDINALITY AS f(i, j)
     ORDER BY f.j;

    INSERT INTO mailbox_messages (account_id, mailbox_id, uid, message_id, modseq, idempotency_key, flags)
    SELECT d_account[f.i], mailbox[f.i], box_first_uid[p.b] + nth[f.i], message_ids[f.j],
           box_base_modseq[p.b] + nth[f.i] + 1,
           d_event[f.i] || '/' || d_recipient[f.i] || '/' || mailbox[f.i],
           ARRAY(SELECT jsonb_array_elements_text(d_flags[f.i]))
      FROM unnest(filed) WITH ORDINALITY AS f(i, j)
      CROSS JOIN LATERAL (SELECT array_position(box_ids, mailbox[f.i]) AS b) p;

    INSERT INTO deliveries (event_id, recipient, account_id, mailbox_id)
    SELECT d_event[f.i], d_recipient[f.i], d_account[f.i], mailbox[f.i] FROM unnest(filed) AS f(i);

    -- A key already there keeps its row: content addressing makes the bytes the same.
    INSERT INTO message_bodies (blob_key, bytes)
    SELECT DISTINCT ON (m_blob_key[f.i]) m_blob_key[f.i], substring(b_bytes FROM b_start[f.i] FOR b_length[f.i])
      FROM unnest(filed) AS f(i)
     WHERE b_start[f.i] IS NOT NULL
    ON CONFLICT (blob_key) DO NOTHING;
  END IF;

  IF o_group IS NOT NULL THEN
    PERFORM bus.commit_offset(o_group, o_topic, o_partition, o_next_offset);
  END IF;

  RETURN QUERY
  SELECT kinds[x.i], CASE WHEN kinds[x.i] = 'delivered' THEN mailbox[x.i] END,
         box_first_uid[p.b] + nth[x.i], box_base_modseq[p.b] + nth[x.i] + 1, message_ids[p.j],
         quotas[x.i], useds[x.i]
    FROM generate_series(1, n) AS x(i)
    CROSS JOIN LATERAL (
      SELECT CASE WHEN kinds[x.i] = 'delivered' THEN array_position(box_ids, mailbox[x.i]) END AS b,
             array_position(filed, x.i) AS j) p
   ORDER BY x.i;
END;
$$;
