-- SEARCH BODY/TEXT are substring tests over messages.body_text and header_text (0080): the word
-- vector answered neither exactly ("wertyuio" is no word of "qwertyuiop"), so it is no longer written
-- and its index, updated on every delivery and APPEND, goes. The column stays (empty) for old readers.
DROP INDEX IF EXISTS messages_search_idx;
