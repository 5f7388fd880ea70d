import type { StatusItem } from '@correo/imap-proto';
import type { ImapMailboxStatus } from '@correo/store';

/** The STATUS items asked for, from a store status row, in the order asked. */
export function statusItems(
  items: readonly StatusItem[],
  status: ImapMailboxStatus,
  appendLimit: number,
): Partial<Record<StatusItem, number>> {
  const values: Record<StatusItem, number> = {
    MESSAGES: status.messages,
    UIDNEXT: status.uidnext,
    UIDVALIDITY: status.uidvalidity,
    UNSEEN: status.unseen,
    DELETED: status.deleted,
    SIZE: status.size,
    RECENT: status.recent,
    HIGHESTMODSEQ: status.highestmodseq,
    APPENDLIMIT: appendLimit,
  };
  const out: Partial<Record<StatusItem, number>> = {};
  for (const item of items) out[item] = values[item];
  return out;
}
