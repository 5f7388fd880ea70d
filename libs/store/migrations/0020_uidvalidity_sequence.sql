-- UIDVALIDITY from one sequence instead of the creation second. With the second, a mailbox deleted
-- and created again within that second (or the default folders of one account, created together)
-- got the same UIDVALIDITY for different UIDs, and a client kept a stale cache. A sequence never
-- hands out a value twice, also across accounts and after a rollback, so the pair (name,
-- UIDVALIDITY) never repeats. It starts above every value in use and above the current epoch second
-- (clients that saw epoch-based values only ever see larger ones); existing mailboxes keep theirs.
-- At one new mailbox per value, the range up to 2^32-1 lasts some 2.4 billion creations; when it is
-- used up, nextval fails (NO CYCLE) rather than reuse a value.
CREATE SEQUENCE mailbox_uidvalidity_seq AS bigint MINVALUE 1 MAXVALUE 4294967295 NO CYCLE;

SELECT setval(
  'mailbox_uidvalidity_seq',
  greatest(
    (SELECT coalesce(max(uidvalidity), 0) FROM mailboxes),
    extract(epoch FROM clock_timestamp())::bigint
  )
);

ALTER TABLE mailboxes ALTER COLUMN uidvalidity SET DEFAULT nextval('mailbox_uidvalidity_seq');
ALTER SEQUENCE mailbox_uidvalidity_seq OWNED BY mailboxes.uidvalidity;
