import { insertMessage, type MessageFacts } from '../delivery.js';
import type { MailboxWriter } from '../mailbox-writer.js';
import { allocate, inAccountTransaction } from './account-transaction.js';

export interface AppendRequest {
  accountId: string;
  mailboxId: string;
  /** One message, or several for MULTIAPPEND: stored all or none. */
  messages: { facts: MessageFacts; flags: readonly string[] }[];
}

export type AppendOutcome =
  | { kind: 'appended'; uidvalidity: number; uids: number[]; modseq: number }
  | { kind: 'nonexistent' }
  | { kind: 'over-quota'; quotaBytes: number; usedBytes: number };

/**
 * IMAP APPEND, stored like a delivery (same rows, same quota accounting, UID and MODSEQ from the
 * mailbox row) but without a bus event, so without an idempotency key. Published after the commit.
 */
export async function appendImapMessages(
  writer: MailboxWriter,
  request: AppendRequest,
): Promise<AppendOutcome> {
  const { accountId, mailboxId, messages } = request;
  const outcome = await inAccountTransaction(
    writer.pool,
    accountId,
    async (client, account): Promise<AppendOutcome> => {
      const bytes = messages.reduce((sum, m) => sum + m.facts.size, 0);
      if (account.quotaBytes !== null && account.usedBytes + bytes > account.quotaBytes) {
        return { kind: 'over-quota', quotaBytes: account.quotaBytes, usedBytes: account.usedBytes };
      }
      const allocated = await allocate(client, accountId, mailboxId, messages.length);
      if (!allocated) return { kind: 'nonexistent' };
      await client.query('UPDATE accounts SET used_bytes = used_bytes + $2 WHERE id = $1', [
        accountId,
        bytes,
      ]);
      const uids: number[] = [];
      for (const [i, { facts, flags }] of messages.entries()) {
        const uid = allocated.firstUid + i;
        const messageId = await insertMessage(client, accountId, facts, null);
        await client.query(
          `INSERT INTO mailbox_messages (account_id, mailbox_id, uid, message_id, modseq, flags)
         VALUES ($1, $2, $3, $4, $5, $6)`,
          [accountId, mailboxId, uid, messageId, allocated.modseq, [...new Set(flags)].sort()],
        );
        uids.push(uid);
      }
      return { kind: 'appended', uidvalidity: allocated.uidvalidity, uids, modseq: allocated.modseq };
    },
  );
  if (!outcome) return { kind: 'nonexistent' };
  if (outcome.kind === 'appended') {
    const { modseq, uids } = outcome;
    await writer.changes.publish(accountId, {
      mailboxId,
      uid: uids[uids.length - 1]!,
      modseq,
      kind: 'append',
    });
  }
  return outcome;
}
