import type { MessageFacts } from '../delivery.js';
import type { Pool } from '../pool.js';
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

/** As deliverToMailbox trims it: to_tsvector refuses vectors past 1 MB. */
const MAX_SEARCH_TEXT_CHARS = 256 * 1024;

/**
 * IMAP APPEND, stored like a delivery (same rows, same quota accounting, UID and MODSEQ from the
 * mailbox row) but without a bus event, so without an idempotency key.
 */
export async function appendImapMessages(pool: Pool, request: AppendRequest): Promise<AppendOutcome> {
  const { accountId, mailboxId, messages } = request;
  const outcome = await inAccountTransaction(
    pool,
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
        const inserted = await client.query<{ id: string }>(
          `INSERT INTO messages (account_id, blob_key, size, sha256, internal_date,
           header_subject, header_from, header_to, header_cc, header_message_id, header_date, header_in_reply_to,
           envelope_json, bodystructure_json, search)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, to_tsvector('simple', $15))
         RETURNING id`,
          [
            accountId,
            facts.blobKey,
            facts.size,
            facts.sha256,
            facts.internalDate,
            facts.subject,
            facts.from,
            facts.to,
            facts.cc,
            facts.messageId,
            facts.date,
            facts.inReplyTo,
            JSON.stringify(facts.envelope ?? null),
            JSON.stringify(facts.bodystructure ?? null),
            facts.searchText.slice(0, MAX_SEARCH_TEXT_CHARS),
          ],
        );
        await client.query(
          `INSERT INTO mailbox_messages (account_id, mailbox_id, uid, message_id, modseq, flags)
         VALUES ($1, $2, $3, $4, $5, $6)`,
          [accountId, mailboxId, uid, inserted.rows[0]!.id, allocated.modseq, [...new Set(flags)].sort()],
        );
        uids.push(uid);
      }
      return { kind: 'appended', uidvalidity: allocated.uidvalidity, uids, modseq: allocated.modseq };
    },
  );
  return outcome ?? { kind: 'nonexistent' };
}
