import type { StatusItem } from '@correo/imap-proto';
import type { ImapMailboxStatus } from '@correo/store';
import { mailboxObjectId } from './object-ids.js';

/** The STATUS items asked for, from a store status row, in the order asked. */
export function statusItems(
  items: readonly StatusItem[],
  status: ImapMailboxStatus,
  appendLimit: number,
  mailboxId: string,
): Partial<Record<StatusItem, number | string>> {
  const values: Record<StatusItem, number | string> = {
    MESSAGES: status.messages,
    UIDNEXT: status.uidnext,
    UIDVALIDITY: status.uidvalidity,
    UNSEEN: status.unseen,
    DELETED: status.deleted,
    SIZE: status.size,
    RECENT: status.recent,
    HIGHESTMODSEQ: status.highestmodseq,
    APPENDLIMIT: appendLimit,
    MAILBOXID: mailboxObjectId(mailboxId),
  };
  const out: Partial<Record<StatusItem, number | string>> = {};
  for (const item of items) out[item] = values[item];
  return out;
}
