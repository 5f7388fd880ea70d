-- Finding the messages an accepted event became (support, benchmarks, reconciliation) was a
-- sequential scan of every message: index the event id the mda stores with each one.
CREATE INDEX IF NOT EXISTS messages_received_event_idx ON messages (received_event_id)
  WHERE received_event_id IS NOT NULL;
