-- The webmail's per-user settings (display name, signature, reply mode, remote images policy, compose
-- mode): one row per account, removed with it. A JSON document so a new setting needs no migration;
-- the webmail validates it on every write (services/webmail/src/user-settings.ts).
CREATE TABLE webmail_settings (
  account_id bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  settings jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
