-- The trace context (W3C traceparent/tracestate) of the bus message a relay job came from, so that
-- the attempts made from the deferred queue, hours later and on any relay pod, and the DSN they
-- send, stay in the message's one trace (docs/observability: one trace per message).
ALTER TABLE relay_queue ADD COLUMN trace_headers jsonb NOT NULL DEFAULT '{}'::jsonb;
