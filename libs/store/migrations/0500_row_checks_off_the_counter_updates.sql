-- The checks on accounts and mailboxes that concern columns only an administrator or a mailbox
-- operation sets (names, addresses, the password hash, the quota, SPECIAL-USE, UIDVALIDITY) move from
-- CHECK constraints to a trigger that runs only when a row is inserted or one of those columns is set.
--
-- Why: PostgreSQL evaluates every CHECK constraint of a table on every UPDATE of it, whichever columns
-- the UPDATE sets, and builds each one again from its stored text for every statement that runs
-- (ExecRelCheck reads the constraint's node tree and prepares it per executor run). Every APPEND, STORE,
-- EXPUNGE and delivery updates a mailbox's counters and most of them the account's used_bytes: five
-- constraints each, rebuilt four to six times per IMAP benchmark cycle, for columns those statements
-- never touch (9.8% of PostgreSQL's CPU under `make bench-imap-vs-dovecot`, docs/performance.md, IMAP
-- seventh round). The checks on the counters themselves (used_bytes, uidnext, highestmodseq) stay
-- constraints: those columns are what the hot statements write.
--
-- An AFTER trigger and not a BEFORE one: PostgreSQL fetches and locks the old row for a table's BEFORE
-- UPDATE row triggers before it looks at which columns they are for, on every UPDATE; AFTER row triggers
-- are queued only when their columns are set. The errors are the constraints' own: SQLSTATE 23514 and
-- the constraint's name, so callers and the contract tests see no difference.

CREATE FUNCTION correo_refuse_row(p_table text, p_constraint text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'new row for relation "%" violates check constraint "%"', p_table, p_constraint
    USING ERRCODE = 'check_violation', CONSTRAINT = p_constraint, TABLE = p_table;
END
$$;

CREATE FUNCTION correo_accounts_checked() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT (NEW.local_part <> '' AND length(NEW.local_part) <= 64 AND position('@' IN NEW.local_part) = 0) THEN
    PERFORM correo_refuse_row('accounts', 'accounts_local_part_valid');
  END IF;
  IF NOT starts_with(lower(NEW.address), lower(NEW.local_part) || '@') THEN
    PERFORM correo_refuse_row('accounts', 'accounts_address_matches_local_part');
  END IF;
  IF NOT (NEW.password_hash IS NULL OR NEW.password_hash LIKE '$argon2id$%') THEN
    PERFORM correo_refuse_row('accounts', 'accounts_password_hash_is_argon2id');
  END IF;
  IF NOT (NEW.quota_bytes IS NULL OR NEW.quota_bytes >= 0) THEN
    PERFORM correo_refuse_row('accounts', 'accounts_quota_non_negative');
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION correo_mailboxes_checked() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT (NEW.name <> '' AND NEW.name !~ '(^/|/$|//)') THEN
    PERFORM correo_refuse_row('mailboxes', 'mailboxes_name_valid');
  END IF;
  IF NOT (NEW.special_use IS NULL OR NEW.special_use = ANY (ARRAY['\All', '\Archive', '\Drafts', '\Flagged',
      '\Junk', '\Sent', '\Trash'])) THEN
    PERFORM correo_refuse_row('mailboxes', 'mailboxes_special_use_known');
  END IF;
  IF NOT (NEW.uidvalidity BETWEEN 1 AND 4294967295) THEN
    PERFORM correo_refuse_row('mailboxes', 'mailboxes_uidvalidity_is_nz_number');
  END IF;
  RETURN NULL;
END
$$;

ALTER TABLE accounts
  DROP CONSTRAINT accounts_local_part_valid,
  DROP CONSTRAINT accounts_address_matches_local_part,
  DROP CONSTRAINT accounts_password_hash_is_argon2id,
  DROP CONSTRAINT accounts_quota_non_negative;
CREATE TRIGGER accounts_checked AFTER INSERT OR UPDATE OF local_part, address, password_hash, quota_bytes
  ON accounts FOR EACH ROW EXECUTE FUNCTION correo_accounts_checked();

ALTER TABLE mailboxes
  DROP CONSTRAINT mailboxes_name_valid,
  DROP CONSTRAINT mailboxes_special_use_known,
  DROP CONSTRAINT mailboxes_uidvalidity_is_nz_number;
CREATE TRIGGER mailboxes_checked AFTER INSERT OR UPDATE OF name, special_use, uidvalidity
  ON mailboxes FOR EACH ROW EXECUTE FUNCTION correo_mailboxes_checked();
