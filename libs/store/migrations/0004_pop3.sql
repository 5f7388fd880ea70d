-- The size POP3 LIST and STAT report for a blob: the octets RETR sends (line ends normalised to CRLF,
-- a final CRLF added) before dot-stuffing. It differs from messages.size only for blobs with bare line
-- ends, but telling which those are takes reading the blob, so it is computed once per blob and kept.
-- Keyed by blob_key: blobs are content-addressed, so the count is a pure function of the key and is
-- shared by every account holding a copy (it reveals nothing to an account that does not hold one).
CREATE TABLE pop3_octets (
  blob_key text PRIMARY KEY CHECK (blob_key <> ''),
  octets bigint NOT NULL CHECK (octets >= 0)
);
