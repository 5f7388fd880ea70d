-- The mda caps how many external addresses one message may be forwarded to (aliases and
-- catch-alls, MDA_MAX_FORWARDS_PER_MESSAGE); each target over the cap is recorded here, so an
-- operator sees what was not sent and why.
ALTER TABLE delivery_rejections DROP CONSTRAINT delivery_rejections_reason_check;
ALTER TABLE delivery_rejections ADD CONSTRAINT delivery_rejections_reason_check
  CHECK (reason IN ('unknown-user', 'loop', 'over-quota', 'relay-denied', 'forward-limit'));
