-- Directory caches (libs/directory cached-directory.ts) keep recipient and domain answers for a few
-- seconds; a change to what they answer from tells every process to drop them at once, through
-- NOTIFY. Statement-level and limited to the columns a lookup reads, so that the delivery path's
-- own writes (accounts.used_bytes) never notify: a notifying commit takes a global lock.
CREATE FUNCTION correo_directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('correo_directory_changed', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER domains_directory_changed
  AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON domains
  FOR EACH STATEMENT EXECUTE FUNCTION correo_directory_changed();
CREATE TRIGGER accounts_directory_changed
  AFTER INSERT OR DELETE OR TRUNCATE ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION correo_directory_changed();
CREATE TRIGGER accounts_directory_updated
  AFTER UPDATE OF tenant_id, domain_id, local_part, address, disabled ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION correo_directory_changed();
CREATE TRIGGER aliases_directory_changed
  AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON aliases
  FOR EACH STATEMENT EXECUTE FUNCTION correo_directory_changed();
CREATE TRIGGER alias_targets_directory_changed
  AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON alias_targets
  FOR EACH STATEMENT EXECUTE FUNCTION correo_directory_changed();
