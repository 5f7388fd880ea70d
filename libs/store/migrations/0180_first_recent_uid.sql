-- \Recent (RFC 3501 2.3.2) for IMAP4rev1 sessions, decided in the store so that exactly one session
-- on any pod sees each message as recent: every UID from first_recent_uid up is unclaimed. A SELECT
-- (or a selected session learning of new mail) moves it up to the UIDNEXT it has seen with one
-- UPDATE and owns the UIDs it stepped over. New UIDs are always >= it, so delivery, APPEND, COPY and
-- MOVE need nothing more. Mailboxes that exist already start with nothing recent.
ALTER TABLE mailboxes ADD COLUMN first_recent_uid bigint NOT NULL DEFAULT 1;
UPDATE mailboxes SET first_recent_uid = uidnext;
