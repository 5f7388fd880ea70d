-- Per-account Sieve scripts (0001 made the table: named, at most one active, as ManageSieve RFC 5804
-- lists them; tenant-scoped through the account, deleted with it). The mda now runs the active one
-- at delivery (issue 14), so the table gets the limits its writers rely on: a name length and the
-- same size ceiling as libs/sieve's default maxScriptBytes (1 MiB; the store functions apply a
-- smaller configurable limit before this).
ALTER TABLE sieve_scripts
  ADD CONSTRAINT sieve_scripts_name_length CHECK (char_length(name) <= 256),
  ADD CONSTRAINT sieve_scripts_content_size CHECK (octet_length(content) <= 1048576);
