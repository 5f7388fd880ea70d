-- Domain ownership and send-as rights (docs/security.md, "Cross-tenant domain capture" and
-- "Cross-tenant DKIM signing").
--
-- A domain a tenant registers is pending until it proves control of the name: a TXT record
-- _correo-verify.<domain> carrying verification_token, or the operator marking it verified. Pending
-- domains receive and relay nothing, so registering someone else's name captures no mail. Domains that
-- exist when this migration runs were set up before the rule and are taken as verified.
ALTER TABLE domains
  ADD COLUMN verified_at timestamptz,
  ADD COLUMN verification_token text NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', '')
    CHECK (verification_token ~ '^[0-9a-f]{32}$');
UPDATE domains SET verified_at = created_at;

-- A domain-wide send-as grant: the account may put any address of the domain in From (a shared
-- newsletter sender, a ticket system). Both rows belong to one tenant (composite foreign keys).
CREATE TABLE send_as_grants (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id bigint NOT NULL,
  account_id bigint NOT NULL,
  domain_id bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, domain_id),
  FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, domain_id) REFERENCES domains (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX send_as_grants_domain_idx ON send_as_grants (domain_id);
