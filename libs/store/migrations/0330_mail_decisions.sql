-- Why a message (or a connection) was refused, delayed, scored or filed to Junk (issue 14, "every
-- decision is visible"): smtp-ingress writes one row per refusal at connect/HELO/MAIL/RCPT/DATA and per
-- scored acceptance, the mda one per Junk filing. admin-api GET /v1/decisions and `correo-admin
-- decisions` read them. Bounded: smtp-ingress records at most SMTP_DECISIONS_PER_IP_PER_MINUTE refusals
-- per client address (a flood is counted in metrics, not written), and the mda's housekeeping deletes
-- rows older than MDA_DECISION_RETENTION_DAYS.
CREATE TABLE mail_decisions (
  id bigserial PRIMARY KEY,
  decided_at timestamptz NOT NULL DEFAULT now(),
  -- 'smtp-ingress' or 'mda'.
  service text NOT NULL,
  -- 'mx', 'submission', 'submissions' for smtp-ingress; '' for the mda.
  listener text NOT NULL DEFAULT '',
  stage text NOT NULL CHECK (stage IN ('connect', 'helo', 'mail', 'rcpt', 'data', 'delivery')),
  outcome text NOT NULL
    CHECK (outcome IN ('rejected', 'tempfailed', 'greylisted', 'junk', 'accepted')),
  -- A short stable code ('dnsbl', 'limit:ip-messages', 'greylist', 'dmarc-quarantine', ...).
  reason text NOT NULL CHECK (char_length(reason) <= 100),
  -- The reply sent or the explanation, for a human.
  detail text NOT NULL CHECK (char_length(detail) <= 1000),
  client_ip text NOT NULL,
  helo text NOT NULL CHECK (char_length(helo) <= 300),
  -- NULL: the session had not reached MAIL FROM; '' is the null reverse-path.
  mail_from text CHECK (char_length(mail_from) <= 400),
  recipients text[] NOT NULL,
  -- Lowercased ASCII domains of the recipients: tenant-scoped reads match them against its domains.
  recipient_domains text[] NOT NULL,
  message_id text CHECK (char_length(message_id) <= 1000),
  -- The MailAccepted event id (smtp-ingress's queue id) once there is one.
  event_id text,
  score double precision,
  -- Named checks and their scores ({"HELO_NOT_FQDN": 1.0, "DNSBL": {...}}).
  symbols jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX mail_decisions_decided_at_idx ON mail_decisions (decided_at);
CREATE INDEX mail_decisions_client_ip_idx ON mail_decisions (client_ip, decided_at);
CREATE INDEX mail_decisions_message_id_idx ON mail_decisions (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX mail_decisions_event_id_idx ON mail_decisions (event_id) WHERE event_id IS NOT NULL;
CREATE INDEX mail_decisions_recipients_idx ON mail_decisions USING gin (recipients);
