/**
 * OBJECTID (RFC 8474) ids: a letter saying what the id names, then the database row id. A mailbox row
 * lives from CREATE to DELETE (RENAME keeps it, DELETE and CREATE again make a new one), a message row
 * is placed again, not copied, by COPY and MOVE, and a thread is named by its first message's row:
 * exactly the lifetimes the RFC asks of MAILBOXID, EMAILID and THREADID. The ids say nothing of the
 * account or the content (docs/security.md "IMAP object ids").
 */
export const mailboxObjectId = (mailboxId: string): string => `F${mailboxId}`;
export const emailObjectId = (messageRowId: string): string => `M${messageRowId}`;
export const threadObjectId = (rootRowId: string): string => `T${rootRowId}`;

/** The row id an object id of `kind` names, or null when it cannot be one of ours (it matches nothing). */
export function rowOfObjectId(kind: 'F' | 'M' | 'T', objectId: string): string | null {
  if (objectId[0] !== kind) return null;
  const row = objectId.slice(1);
  // bigint range: a longer number cannot be a row id, and must not reach SQL as one.
  return /^[1-9][0-9]{0,17}$/.test(row) ? row : null;
}
