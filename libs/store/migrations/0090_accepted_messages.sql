-- What smtp-ingress accepted, as the mda first saw it: the start of a message's journey
-- (admin-api GET /v1/messages/{id}/journey, correo-admin journey). The fates of the recipients are
-- already recorded elsewhere (deliveries, delivery_rejections, relay_queue, relay_outcomes,
-- dead_letters); this row is what ties them to one acceptance and says where, when and from whom.
-- Written by the mda (once per event, ON CONFLICT DO NOTHING), never on smtp-ingress's 250 path.
CREATE TABLE accepted_messages (
  event_id text PRIMARY KEY CHECK (event_id <> ''),
  received_at timestamptz NOT NULL,
  -- 'mx' (port 25) or 'submission' (587/465).
  kind text NOT NULL,
  port integer NOT NULL,
  client_ip text NOT NULL,
  helo text NOT NULL,
  authenticated_user text NOT NULL,
  -- '' for the null reverse-path.
  mail_from text NOT NULL,
  -- Lowercased ASCII domains: tenant-scoped reads match them against the tenant's domains.
  sender_domain text NOT NULL,
  recipient_domains text[] NOT NULL,
  -- The envelope recipients as received, in order.
  recipients text[] NOT NULL,
  size bigint NOT NULL,
  -- The Authentication-Results header smtp-ingress added ('' when it checked nothing) and its parts.
  authentication_results text NOT NULL,
  authentication jsonb NOT NULL,
  -- The Message-ID header when the mda read it for a message it only relayed; the local copies of a
  -- message carry theirs in messages.header_message_id.
  message_id text,
  -- The relay jobs the mda handed the external recipients to:
  -- [{ jobId, domain, targets: [{ recipient (envelope), address (where it goes) }] }].
  relay_jobs jsonb NOT NULL,
  -- The W3C trace id of the message's trace ('' when none came with the event).
  trace_id text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX accepted_messages_received_at_idx ON accepted_messages (received_at);
CREATE INDEX accepted_messages_message_id_idx ON accepted_messages (message_id);
-- `journey <Message-ID>` finds the stored copies of a message by its header across accounts.
CREATE INDEX messages_header_message_id_idx ON messages (header_message_id);
