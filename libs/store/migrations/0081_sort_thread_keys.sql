-- SORT (RFC 5256, RFC 5957 DISPLAY) and THREAD keys kept beside each message, filled at delivery and
-- APPEND, so that neither command reads a body or a header block.
ALTER TABLE messages ADD COLUMN sort_subject text;        -- RFC 5256 2.1 base subject
ALTER TABLE messages ADD COLUMN sort_from text;           -- addr-mailbox of the first From
ALTER TABLE messages ADD COLUMN sort_to text;
ALTER TABLE messages ADD COLUMN sort_cc text;
ALTER TABLE messages ADD COLUMN sort_display_from text;   -- RFC 5957 display name, else addr-spec
ALTER TABLE messages ADD COLUMN sort_display_to text;
ALTER TABLE messages ADD COLUMN thread_message_id text;   -- first msg-id of Message-ID
ALTER TABLE messages ADD COLUMN thread_references text[]; -- References msg-ids, else first In-Reply-To
-- False for rows stored before this migration: the gateway derives their keys from the stored
-- ENVELOPE and summary columns (decoding RFC 2047 words, which SQL cannot) the first time a SORT or
-- THREAD meets them, and writes them back. Their References are not stored: In-Reply-To stands in.
ALTER TABLE messages ADD COLUMN sort_keys_filled boolean NOT NULL DEFAULT false;
