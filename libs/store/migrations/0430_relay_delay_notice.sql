-- Whether the sender of a queued job was told that its mail is delayed (a "delayed" DSN after
-- RELAY_DELAY_WARNING in the queue): once per job, whichever relay pod makes the attempt that tells.
ALTER TABLE relay_queue ADD COLUMN delay_notified boolean NOT NULL DEFAULT false;
