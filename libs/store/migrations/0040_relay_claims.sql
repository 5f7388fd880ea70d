-- Fenced claims on the relay's deferred queue. A claim takes a fresh token and a lease that
-- outlives the attempt's deadline; every write of the attempt's result names the token, so a holder
-- whose claim was taken over (its lease ran out) can neither record nor reschedule, and an
-- operator's "retry now" cannot hand a job in flight to a second relay.
ALTER TABLE relay_queue
  -- Set while a relay holds the job; NULL when nobody does.
  ADD COLUMN claim_token uuid,
  -- The claim's lease: until then no other relay may take the job, whatever next_attempt_at says.
  ADD COLUMN claimed_until timestamptz;
