import type { MailboxWriter } from '../mailbox-writer.js';
import { enqueueSpamTraining, trainingClass } from '../spam.js';
import { allocate, inAccountTransaction } from './account-transaction.js';

export interface CopyRequest {
  accountId: string;
  fromMailboxId: string;
  toMailboxId: string;
  uids: readonly number[];
}

export type CopyOutcome =
  | {
      kind: 'copied';
      uidvalidity: number;
      /** Source and destination UIDs, paired by position, ascending source UID. */
      sourceUids: number[];
      destinationUids: number[];
      modseq: number | null;
    }
  | { kind: 'nonexistent' };

/**
 * COPY (and the first half of MOVE): new places for the same message rows, so a copy costs no blob
 * and no quota. Flags travel with the message; the copies get new UIDs and one new MODSEQ, published
 * on the target mailbox after the commit.
 */
export async function copyImapMessages(writer: MailboxWriter, request: CopyRequest): Promise<CopyOutcome> {
  const { accountId, fromMailboxId, toMailboxId } = request;
  const outcome = await inAccountTransaction(writer.pool, accountId, async (client): Promise<CopyOutcome> => {
    const source = await client.query<{ uid: string; message_id: string; flags: string[] }>(
      `SELECT uid, message_id, flags FROM mailbox_messages
       WHERE account_id = $1 AND mailbox_id = $2 AND uid = ANY($3::bigint[]) ORDER BY uid`,
      [accountId, fromMailboxId, request.uids],
    );
    const target = await client.query<{ uidvalidity: string; special_use: string | null }>(
      'SELECT uidvalidity, special_use FROM mailboxes WHERE id = $1 AND account_id = $2',
      [toMailboxId, accountId],
    );
    if (!target.rows[0]) return { kind: 'nonexistent' };
    if (source.rows.length === 0) {
      const uidvalidity = Number(target.rows[0].uidvalidity);
      return { kind: 'copied', uidvalidity, sourceUids: [], destinationUids: [], modseq: null };
    }
    const allocated = await allocate(client, accountId, toMailboxId, source.rows.length);
    if (!allocated) return { kind: 'nonexistent' };
    const destinationUids = source.rows.map((_, i) => allocated.firstUid + i);
    await client.query(
      `INSERT INTO mailbox_messages (account_id, mailbox_id, uid, message_id, modseq, flags)
       SELECT $1, $2, c.uid, c.message_id, $3, c.flags
       FROM jsonb_to_recordset($4::jsonb) AS c(uid bigint, message_id bigint, flags text[])`,
      [
        accountId,
        toMailboxId,
        allocated.modseq,
        JSON.stringify(
          source.rows.map((row, i) => ({
            uid: destinationUids[i],
            message_id: row.message_id,
            flags: row.flags,
          })),
        ),
      ],
    );
    // Into or out of Junk trains the spam filter (docs/spam.md): queued in this transaction, learned
    // later by the mda, so the COPY/MOVE never waits on Rspamd.
    const from = await client.query<{ special_use: string | null }>(
      'SELECT special_use FROM mailboxes WHERE id = $1 AND account_id = $2',
      [fromMailboxId, accountId],
    );
    const spamClass = trainingClass(from.rows[0]?.special_use ?? null, target.rows[0].special_use);
    if (spamClass) {
      await enqueueSpamTraining(
        client,
        accountId,
        source.rows.map((row) => row.message_id),
        spamClass,
      );
    }
    return {
      kind: 'copied',
      uidvalidity: allocated.uidvalidity,
      sourceUids: source.rows.map((row) => Number(row.uid)),
      destinationUids,
      modseq: allocated.modseq,
    };
  });
  if (!outcome) return { kind: 'nonexistent' };
  if (outcome.kind === 'copied' && outcome.modseq !== null) {
    await writer.changes.publish(accountId, { mailboxId: toMailboxId, modseq: outcome.modseq, kind: 'copy' });
  }
  return outcome;
}
