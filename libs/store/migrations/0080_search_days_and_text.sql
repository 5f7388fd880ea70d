-- SEARCH semantics (RFC 3501 6.4.4): dates compared as calendar days in the zone they were written in,
-- TEXT/BODY as substring tests over decoded text.

-- The Date header's day in its own zone (SENTBEFORE/SENTON/SENTSINCE); NULL without a usable Date.
ALTER TABLE messages ADD COLUMN sent_day date;
-- The internal date's day in the zone APPEND gave it (UTC for deliveries): BEFORE/ON/SINCE. NULL
-- (a writer that does not set it) reads as the UTC day.
ALTER TABLE messages ADD COLUMN internal_day date;
-- Decoded header fields, one a line (SEARCH TEXT).
ALTER TABLE messages ADD COLUMN header_text text;
-- Decoded text of the body parts (SEARCH BODY/TEXT). NULL when not kept (rows from before this
-- migration, or text cut at the analyzer's limit): SEARCH then reads the message from the blob store.
ALTER TABLE messages ADD COLUMN body_text text;

UPDATE messages SET internal_day = (internal_date AT TIME ZONE 'UTC')::date;

-- Old rows: the stored instant moved into the zone named at the end of the raw Date value (+hhmm or
-- an RFC 5322 zone name), as libs/mime sentDay() does for new ones.
UPDATE messages m SET sent_day = ((m.header_date AT TIME ZONE 'UTC') + z.offset_minutes * interval '1 minute')::date
FROM (
  SELECT id,
    CASE
      WHEN d ~ '[+-][0-9]{4}$' THEN
        (CASE WHEN substring(d from '([+-])[0-9]{4}$') = '-' THEN -1 ELSE 1 END)
        * (substring(d from '[+-]([0-9]{2})[0-9]{2}$')::int * 60 + substring(d from '[+-][0-9]{2}([0-9]{2})$')::int)
      WHEN d ~* 'EDT$' THEN -240
      WHEN d ~* '(EST|CDT)$' THEN -300
      WHEN d ~* '(CST|MDT)$' THEN -360
      WHEN d ~* '(MST|PDT)$' THEN -420
      WHEN d ~* 'PST$' THEN -480
      ELSE 0
    END AS offset_minutes
  FROM (
    SELECT id, btrim(regexp_replace(coalesce(envelope_json ->> 'date', ''), '\([^()]*\)\s*$', '')) AS d
    FROM messages WHERE header_date IS NOT NULL
  ) raw
) z
WHERE m.id = z.id;
