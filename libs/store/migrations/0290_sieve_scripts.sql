-- Per-account Sieve scripts (RFC 5228), as ManageSieve (RFC 5804) lists them: named, at most one
-- active. Tenant-scoped through the account (the admin API checks the account's tenant); deleting
-- the account deletes its scripts. The mda runs the active one at delivery (issue 14).
CREATE TABLE sieve_scripts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (name <> '' AND char_length(name) <= 256),
  -- The same ceiling as libs/sieve's default maxScriptBytes (1 MiB); the store functions apply a
  -- smaller configurable one before this.
  content text NOT NULL CHECK (octet_length(content) <= 1048576),
  active boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, name)
);
-- At most one active script per account (RFC 5804 SETACTIVE): the database enforces it.
CREATE UNIQUE INDEX sieve_scripts_one_active_idx ON sieve_scripts (account_id) WHERE active;
