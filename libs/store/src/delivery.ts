import { inTransaction } from './transaction.js';
import type pg from 'pg';
import type { Pool } from './pool.js';
import { ensureMailbox } from './mailboxes.js';

/** What IMAP and POP3 read about a message without opening its blob; computed once per message. */
export interface MessageFacts {
  blobKey: string;
  /** Hex SHA-256 of the raw bytes. */
  sha256: string;
  size: number;
  /** IMAP INTERNALDATE: when our MX accepted the message. */
  internalDate: Date;
  subject: string | null;
  from: string | null;
  to: string | null;
  cc: string | null;
  messageId: string | null;
  /** null when the Date header is absent or unparseable. */
  date: Date | null;
  inReplyTo: string | null;
  envelope: unknown;
  bodystructure: unknown;
  /** Plain text to index with to_tsvector('simple', ...). */
  searchText: string;
}

export interface LocalDelivery {
  /** The MailAccepted event id. */
  eventId: string;
  /** The envelope recipient as received (lowercased here). */
  recipient: string;
  accountId: string;
  /** Defaults to INBOX; created on first delivery. */
  mailboxName?: string;
  message: MessageFacts;
}

export type DeliveryOutcome =
  | {
      kind: 'delivered';
      accountId: string;
      mailboxId: string;
      uid: number;
      modseq: number;
      messageId: string;
    }
  /** This (event, recipient, mailbox) was already delivered or rejected: nothing changed. */
  | { kind: 'duplicate' }
  | { kind: 'over-quota'; quotaBytes: number; usedBytes: number }
  /** The account was deleted between resolution and delivery. */
  | { kind: 'unknown-user' };

export type RejectionReason = 'unknown-user' | 'loop' | 'over-quota' | 'relay-denied';

export interface Rejection {
  eventId: string;
  recipient: string;
  accountId?: string | undefined;
  reason: RejectionReason;
  detail?: string;
}

/**
 * to_tsvector fails on input whose vector would exceed 1 MB; the first part of a huge message is
 * what anyone searches anyway.
 */
const MAX_SEARCH_TEXT_CHARS = 256 * 1024;

/**
 * Files one message into one mailbox of one account, exactly once per (event, recipient, mailbox).
 *
 * Everything happens in one transaction that first locks the account row: deliveries to one account
 * are serialised, so the duplicate check, the quota check, the used_bytes update and the UID/MODSEQ
 * allocation cannot interleave with another delivery of the same event (a rebalanced consumer) or
 * of another message. The caller acknowledges the bus event only after this resolves.
 */
export async function deliverToMailbox(pool: Pool, delivery: LocalDelivery): Promise<DeliveryOutcome> {
  const recipient = delivery.recipient.toLowerCase();
  return inTransaction(pool, (client) => deliverInTransaction(client, { ...delivery, recipient }));
}

/**
 * The messages row of one stored copy, shared by delivery and IMAP APPEND (which has no event:
 * `receivedEventId` null). Everything IMAP and POP3 read later comes from here, never the body.
 */
export async function insertMessage(
  client: pg.PoolClient,
  accountId: string,
  message: MessageFacts,
  receivedEventId: string | null,
): Promise<string> {
  const inserted = await client.query<{ id: string }>(
    `INSERT INTO messages (account_id, blob_key, size, sha256, internal_date, received_event_id,
       header_subject, header_from, header_to, header_cc, header_message_id, header_date, header_in_reply_to,
       envelope_json, bodystructure_json, search)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, to_tsvector('simple', $16))
     RETURNING id`,
    [
      accountId,
      message.blobKey,
      message.size,
      message.sha256,
      message.internalDate,
      receivedEventId,
      message.subject,
      message.from,
      message.to,
      message.cc,
      message.messageId,
      message.date,
      message.inReplyTo,
      JSON.stringify(message.envelope ?? null),
      JSON.stringify(message.bodystructure ?? null),
      message.searchText.slice(0, MAX_SEARCH_TEXT_CHARS),
    ],
  );
  return inserted.rows[0]!.id;
}

async function deliverInTransaction(
  client: pg.PoolClient,
  delivery: LocalDelivery,
): Promise<DeliveryOutcome> {
  const { eventId, recipient, accountId, message } = delivery;
  const account = await client.query<{ quota_bytes: string | null; used_bytes: string }>(
    'SELECT quota_bytes, used_bytes FROM accounts WHERE id = $1 FOR UPDATE',
    [accountId],
  );
  const row = account.rows[0];
  if (!row) return { kind: 'unknown-user' };

  const mailboxId = await ensureMailbox(client, accountId, delivery.mailboxName ?? 'INBOX');

  const earlier = await client.query(
    `SELECT 1 FROM deliveries WHERE event_id = $1 AND recipient = $2 AND mailbox_id = $3
     UNION ALL
     SELECT 1 FROM delivery_rejections WHERE event_id = $1 AND recipient = $2 AND account_id = $4`,
    [eventId, recipient, mailboxId, accountId],
  );
  if (earlier.rowCount) return { kind: 'duplicate' };

  const usedBytes = Number(row.used_bytes);
  if (row.quota_bytes !== null && usedBytes + message.size > Number(row.quota_bytes)) {
    const quotaBytes = Number(row.quota_bytes);
    await insertRejection(client, {
      eventId,
      recipient,
      accountId,
      reason: 'over-quota',
      detail: `${message.size} bytes do not fit: ${usedBytes} of ${quotaBytes} bytes used`,
    });
    return { kind: 'over-quota', quotaBytes, usedBytes };
  }
  await client.query('UPDATE accounts SET used_bytes = used_bytes + $2 WHERE id = $1', [
    accountId,
    message.size,
  ]);

  const allocated = await client.query<{ uid: string; modseq: string }>(
    `UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1
     WHERE id = $1 RETURNING uidnext - 1 AS uid, highestmodseq AS modseq`,
    [mailboxId],
  );
  const { uid, modseq } = allocated.rows[0]!;

  const messageId = await insertMessage(client, accountId, message, eventId);

  await client.query(
    `INSERT INTO mailbox_messages (account_id, mailbox_id, uid, message_id, modseq, idempotency_key)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [accountId, mailboxId, uid, messageId, modseq, `${eventId}/${recipient}/${mailboxId}`],
  );
  await client.query(
    'INSERT INTO deliveries (event_id, recipient, account_id, mailbox_id) VALUES ($1, $2, $3, $4)',
    [eventId, recipient, accountId, mailboxId],
  );
  return { kind: 'delivered', accountId, mailboxId, uid: Number(uid), modseq: Number(modseq), messageId };
}

/** A recipient the mda did not deliver, as recorded (for operators: nothing accepted is dropped unseen). */
export interface RecordedRejection {
  id: string;
  eventId: string;
  recipient: string;
  /** null when the recipient resolved to no account (unknown user, loop, relay denied). */
  accountId: string | null;
  reason: RejectionReason;
  detail: string;
  rejectedAt: Date;
}

/**
 * Recorded rejections, oldest first, keyset-paged by id. A tenant (`tenantId` set) sees those whose
 * recipient is at one of its domains or resolved to one of its accounts: an unknown user has no
 * account, so the recipient's domain is what ties the row to a tenant.
 */
export async function listDeliveryRejections(
  pool: Pool,
  scope: { tenantId: string | null },
  page: { limit: number; afterId: string },
  filter: { eventId?: string } = {},
): Promise<{ items: RecordedRejection[]; nextCursor: string | null }> {
  const { rows } = await pool.query<RecordedRejection>(
    `SELECT r.id, r.event_id AS "eventId", r.recipient, r.account_id AS "accountId", r.reason, r.detail,
            r.rejected_at AS "rejectedAt"
       FROM delivery_rejections r
      WHERE r.id > $2 AND ($3::text IS NULL OR r.event_id = $3)
        AND ($1::bigint IS NULL
             OR EXISTS (SELECT 1 FROM domains d
                         WHERE d.tenant_id = $1 AND d.name = substring(r.recipient from '[^@]*$'))
             OR EXISTS (SELECT 1 FROM accounts a WHERE a.tenant_id = $1 AND a.id = r.account_id))
      ORDER BY r.id LIMIT $4`,
    [scope.tenantId, page.afterId, filter.eventId ?? null, page.limit + 1],
  );
  const items = rows.slice(0, page.limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > page.limit && last ? last.id : null };
}

/**
 * Records that a recipient of an event was not delivered. Idempotent; resolves true only the first
 * time, so metrics count each rejection once however often the event is redelivered.
 */
export async function recordRejection(pool: Pool, rejection: Rejection): Promise<boolean> {
  return insertRejection(pool, rejection);
}

async function insertRejection(db: Pool | pg.PoolClient, rejection: Rejection): Promise<boolean> {
  const result = await db.query(
    `INSERT INTO delivery_rejections (event_id, recipient, account_id, reason, detail)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (event_id, recipient, coalesce(account_id, 0)) DO NOTHING`,
    [
      rejection.eventId,
      rejection.recipient.toLowerCase(),
      rejection.accountId ?? null,
      rejection.reason,
      rejection.detail ?? '',
    ],
  );
  return result.rowCount === 1;
}
