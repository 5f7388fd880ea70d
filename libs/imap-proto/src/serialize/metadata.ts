import type { EncodeOptions, ImapValue } from './encoder.js';
import { astr, mailboxValue, untagged } from './encoder.js';

/** A value as RFC 5464 5 writes it: a string, or literal8 when it holds NUL. */
function metadataValue(value: Buffer | null): ImapValue {
  if (value === null) return null;
  return value.includes(0) ? { type: 'literal8', value } : { type: 'string', value };
}

/** `* METADATA INBOX (/private/comment "text" ...)`: the answer to GETMETADATA (NIL: no such entry); "" is the server. */
export function metadataResponse(
  mailbox: string,
  values: ReadonlyArray<{ entry: string; value: Buffer | null }>,
  options: EncodeOptions = {},
): Buffer {
  const list: ImapValue[] = values.flatMap(({ entry, value }) => [astr(entry), metadataValue(value)]);
  return untagged([{ type: 'atom', value: 'METADATA' }, metadataMailbox(mailbox, options), list], options);
}

/** `* METADATA INBOX /shared/comment /private/x`: unsolicited, the entries that changed (RFC 5464 4.4.2). */
export function metadataEntriesResponse(
  mailbox: string,
  entries: string[],
  options: EncodeOptions = {},
): Buffer {
  return untagged(
    [{ type: 'atom', value: 'METADATA' }, metadataMailbox(mailbox, options), ...entries.map(astr)],
    options,
  );
}

/** The server is the empty mailbox name, which must be a quoted "". */
function metadataMailbox(mailbox: string, options: EncodeOptions): ImapValue {
  return mailbox === '' ? { type: 'string', value: '' } : mailboxValue(mailbox, options);
}
