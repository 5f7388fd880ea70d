import type { SearchKey } from '@correo/imap-proto';
import { baseSubject, sortKeys } from '@correo/mime';
import { fillSortKeys, readImapSortRows } from '@correo/store';
import type { ImapSortKeySource, MessageSortKeys } from '@correo/store';
import type { SelectedContext } from './command-context.js';
import { searchMailbox } from './search-header-scan.js';

/** One message SORT or THREAD orders: its keys, from columns, never from the body. */
export interface SortableMessage {
  uid: number;
  /** The message sequence number in this session's view. */
  number: number;
  size: number;
  arrival: number;
  /** RFC 5256: the Date header as an instant, else the internal date. */
  sent: number;
  keys: MessageSortKeys;
  /** The Subject marks a reply or forward (RFC 5256 THREAD=REFERENCES step 5). */
  replyOrForward: boolean;
}

/** Keys of a row stored before they were kept, from its stored ENVELOPE and summary columns. */
function derivedKeys(subject: string | null, source: ImapSortKeySource): MessageSortKeys {
  const { envelope } = source;
  return sortKeys({
    subject,
    from: envelope?.from ?? null,
    to: envelope?.to ?? null,
    cc: envelope?.cc ?? null,
    messageId: source.messageId,
    inReplyTo: source.inReplyTo,
    // Not stored for old rows: THREAD links them through In-Reply-To alone.
    references: null,
  });
}

/**
 * The messages of the selected mailbox that match `criteria` and that the client has been told about,
 * in sequence order, with what SORT and THREAD compare. Rows stored before the keys were kept get
 * them derived here once and written back.
 */
export async function sortableMessages(
  ctx: SelectedContext,
  criteria: readonly SearchKey[],
): Promise<SortableMessage[]> {
  const { services } = ctx;
  const view = ctx.view;
  const accountId = ctx.account.accountId;
  const found = await searchMailbox(
    { pool: services.pool, blobs: services.blobs, batchSize: services.config.fetchBatch },
    accountId,
    view,
    criteria,
  );
  const uids = found.map((m) => m.uid).filter((uid) => view.isLive(uid));
  const rows = await readImapSortRows(services.pool, accountId, view.mailboxId, uids);
  const filled: { messageRowId: string; keys: MessageSortKeys }[] = [];
  const messages = rows.map((row): SortableMessage => {
    let keys: MessageSortKeys;
    if (row.source === null) keys = row.keys;
    else {
      keys = derivedKeys(row.subject, row.source);
      filled.push({ messageRowId: row.source.messageRowId, keys });
    }
    const arrival = row.internalDate.getTime();
    return {
      uid: row.uid,
      number: view.numberOf(row.uid),
      size: row.size,
      arrival,
      sent: row.sentDate?.getTime() ?? arrival,
      keys,
      replyOrForward: baseSubject(row.subject).replyOrForward,
    };
  });
  if (filled.length) await fillSortKeys(services.pool, accountId, filled);
  return messages;
}

/**
 * i;ascii-casemap (RFC 4790 9.2), the default collation of SORT and THREAD: a-z folded to A-Z, then
 * the UTF-8 octets compared.
 */
export function casemap(text: string): Buffer {
  return Buffer.from(
    text.replace(/[a-z]+/g, (run) => run.toUpperCase()),
    'utf8',
  );
}
