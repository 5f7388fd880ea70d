-- The metadata schema: tenants, their domains and accounts, aliases, IMAP mailboxes and messages,
-- exactly-once delivery records, DKIM keys and admin API tokens. Message bodies live in the blob
-- store; rows here point at them by blob_key.
--
-- Tenant isolation is enforced by the schema itself where it is cheap: child rows carry the owner's
-- id and composite foreign keys make it impossible to attach, say, an account to another tenant's
-- domain or a message to another account's mailbox.

CREATE TABLE tenants (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE CHECK (name <> ''),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE domains (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  -- IDNs are stored as lowercase A-labels (punycode), so one spelling means one row; globally unique
  -- because the MX decides which tenant receives a domain's mail.
  name text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  CONSTRAINT domains_name_is_lowercase_ascii CHECK (
    length(name) <= 253
    AND name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$'
  )
);

CREATE TABLE accounts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  domain_id bigint NOT NULL,
  local_part text NOT NULL,
  -- local_part@domain as the user wrote it; lookups and uniqueness ignore case (see the index below).
  address text NOT NULL,
  display_name text NOT NULL DEFAULT '',
  -- An argon2id PHC string; NULL means the account cannot log in with a password.
  password_hash text,
  -- NULL means no quota.
  quota_bytes bigint,
  used_bytes bigint NOT NULL DEFAULT 0,
  disabled boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, domain_id) REFERENCES domains (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT accounts_local_part_valid CHECK (
    local_part <> '' AND length(local_part) <= 64 AND position('@' IN local_part) = 0
  ),
  CONSTRAINT accounts_address_matches_local_part CHECK (starts_with(lower(address), lower(local_part) || '@')),
  CONSTRAINT accounts_password_hash_is_argon2id CHECK (password_hash IS NULL OR password_hash LIKE '$argon2id$%'),
  CONSTRAINT accounts_quota_non_negative CHECK (quota_bytes IS NULL OR quota_bytes >= 0),
  CONSTRAINT accounts_used_non_negative CHECK (used_bytes >= 0)
);
CREATE UNIQUE INDEX accounts_address_ci_key ON accounts (lower(address));
CREATE INDEX accounts_domain_idx ON accounts (domain_id);

CREATE TABLE aliases (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  domain_id bigint NOT NULL,
  -- Either an exact address (sales@example.test) or a domain catch-all (@example.test).
  source text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, domain_id) REFERENCES domains (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT aliases_source_is_address_or_catch_all CHECK (source ~ '^[^@[:space:]]*@[^@[:space:]]+$')
);
CREATE UNIQUE INDEX aliases_source_ci_key ON aliases (lower(source));
CREATE INDEX aliases_domain_idx ON aliases (domain_id);

-- Targets may be local accounts, other aliases or external addresses (then the mda relays).
CREATE TABLE alias_targets (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  alias_id bigint NOT NULL REFERENCES aliases (id) ON DELETE CASCADE,
  target text NOT NULL,
  CONSTRAINT alias_targets_target_is_address CHECK (target ~ '^[^@[:space:]]+@[^@[:space:]]+$')
);
CREATE UNIQUE INDEX alias_targets_alias_target_ci_key ON alias_targets (alias_id, lower(target));

-- The account's Sieve scripts; at most one is active, as in ManageSieve (RFC 5804).
CREATE TABLE sieve_scripts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (name <> ''),
  content text NOT NULL,
  active boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, name)
);
CREATE UNIQUE INDEX sieve_scripts_one_active ON sieve_scripts (account_id) WHERE active;

CREATE TABLE mailboxes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  -- The full hierarchical name with '/' as delimiter, e.g. 'INBOX', 'Archive/2026'.
  name text NOT NULL,
  -- RFC 6154 attribute, e.g. '\Sent'; NULL for ordinary folders.
  special_use text,
  subscribed boolean NOT NULL DEFAULT true,
  -- Seconds since the epoch at creation: a mailbox deleted and recreated under the same name gets a
  -- new UIDVALIDITY, which tells clients to drop their cache.
  uidvalidity bigint NOT NULL DEFAULT extract(epoch FROM clock_timestamp())::bigint,
  uidnext bigint NOT NULL DEFAULT 1,
  highestmodseq bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, name),
  UNIQUE (account_id, id),
  CONSTRAINT mailboxes_name_valid CHECK (name <> '' AND name !~ '(^/|/$|//)'),
  CONSTRAINT mailboxes_special_use_known CHECK (
    special_use IS NULL OR special_use IN ('\All', '\Archive', '\Drafts', '\Flagged', '\Junk', '\Sent', '\Trash')
  ),
  CONSTRAINT mailboxes_uidvalidity_is_nz_number CHECK (uidvalidity BETWEEN 1 AND 4294967295),
  -- 4294967296 means the mailbox has used every UID and must get a new UIDVALIDITY.
  CONSTRAINT mailboxes_uidnext_range CHECK (uidnext BETWEEN 1 AND 4294967296),
  CONSTRAINT mailboxes_highestmodseq_positive CHECK (highestmodseq >= 1)
);

-- One row per stored copy of a message in an account; the bytes are shared through the blob store.
CREATE TABLE messages (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  blob_key text NOT NULL CHECK (blob_key <> ''),
  size bigint NOT NULL CHECK (size >= 0),
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  internal_date timestamptz NOT NULL DEFAULT now(),
  -- The MailAccepted event that delivered it; NULL for IMAP APPEND.
  received_event_id text,
  -- The header fields IMAP FETCH ENVELOPE, SORT and THREAD need without reading the blob.
  header_subject text,
  header_from text,
  header_to text,
  header_cc text,
  header_message_id text,
  -- NULL when the Date header is absent or unparseable.
  header_date timestamptz,
  header_in_reply_to text,
  envelope_json jsonb,
  bodystructure_json jsonb,
  search tsvector NOT NULL DEFAULT ''::tsvector,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, id)
);
CREATE INDEX messages_account_idx ON messages (account_id);
CREATE INDEX messages_account_message_id_idx ON messages (account_id, header_message_id);
CREATE INDEX messages_search_idx ON messages USING gin (search);

-- A message's place in a mailbox: its UID, flags and MODSEQ.
CREATE TABLE mailbox_messages (
  account_id bigint NOT NULL,
  mailbox_id bigint NOT NULL,
  uid bigint NOT NULL,
  message_id bigint NOT NULL,
  modseq bigint NOT NULL,
  flags text[] NOT NULL DEFAULT '{}',
  -- '<event_id>/<recipient>/<mailbox_id>' for deliveries from the bus, so a redelivered event cannot
  -- insert twice; NULL for APPEND and COPY, which have no bus event.
  idempotency_key text UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mailbox_id, uid),
  FOREIGN KEY (account_id, mailbox_id) REFERENCES mailboxes (account_id, id) ON DELETE CASCADE,
  FOREIGN KEY (account_id, message_id) REFERENCES messages (account_id, id) ON DELETE CASCADE,
  CONSTRAINT mailbox_messages_uid_is_nz_number CHECK (uid BETWEEN 1 AND 4294967295),
  CONSTRAINT mailbox_messages_modseq_positive CHECK (modseq >= 1),
  CONSTRAINT mailbox_messages_flags_no_nulls CHECK (array_position(flags, NULL) IS NULL)
);
CREATE INDEX mailbox_messages_changed_since_idx ON mailbox_messages (mailbox_id, modseq);
CREATE INDEX mailbox_messages_message_idx ON mailbox_messages (account_id, message_id);

-- Expunged UIDs with the MODSEQ of their expunge, for QRESYNC VANISHED (RFC 7162).
CREATE TABLE expunged (
  mailbox_id bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
  uid bigint NOT NULL,
  modseq bigint NOT NULL,
  expunged_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mailbox_id, uid),
  CONSTRAINT expunged_uid_is_nz_number CHECK (uid BETWEEN 1 AND 4294967295),
  CONSTRAINT expunged_modseq_positive CHECK (modseq >= 1)
);
CREATE INDEX expunged_since_idx ON expunged (mailbox_id, modseq);

-- What the mda did with each (event, recipient, mailbox). Unlike mailbox_messages.idempotency_key,
-- it outlives an EXPUNGE, so an event redelivered after the user deleted the message stays delivered
-- once instead of resurrecting it.
CREATE TABLE deliveries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id text NOT NULL CHECK (event_id <> ''),
  -- The envelope recipient, lowercased.
  recipient text NOT NULL CHECK (recipient <> '' AND recipient = lower(recipient)),
  account_id bigint NOT NULL,
  mailbox_id bigint NOT NULL,
  delivered_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (event_id, recipient, mailbox_id),
  FOREIGN KEY (account_id, mailbox_id) REFERENCES mailboxes (account_id, id) ON DELETE CASCADE
);
CREATE INDEX deliveries_delivered_at_idx ON deliveries (delivered_at);

CREATE TABLE dkim_keys (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  domain_id bigint NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
  selector text NOT NULL,
  algorithm text NOT NULL DEFAULT 'rsa-sha256',
  -- PKCS#8 PEM.
  private_key text NOT NULL,
  -- The base64 p= value published in <selector>._domainkey.<domain>.
  public_key text NOT NULL,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (domain_id, selector),
  CONSTRAINT dkim_keys_selector_is_dns_label CHECK (
    selector ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$'
  ),
  CONSTRAINT dkim_keys_algorithm_known CHECK (algorithm IN ('rsa-sha256', 'ed25519-sha256')),
  CONSTRAINT dkim_keys_keys_present CHECK (private_key <> '' AND public_key <> '')
);
-- The relay signs with exactly one key per domain; old selectors stay published during rotation.
CREATE UNIQUE INDEX dkim_keys_one_active_per_domain ON dkim_keys (domain_id) WHERE active;

CREATE TABLE api_tokens (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- NULL for an operator token valid across tenants; otherwise the token sees only this tenant.
  tenant_id bigint REFERENCES tenants (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (name <> ''),
  -- Hex SHA-256 of the secret: tokens are long random strings, so a slow password hash adds nothing.
  token_hash text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz,
  CONSTRAINT api_tokens_expiry_after_creation CHECK (expires_at IS NULL OR expires_at > created_at)
);
CREATE INDEX api_tokens_tenant_idx ON api_tokens (tenant_id);
