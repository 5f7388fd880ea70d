import { storedBodyStructure, storedEnvelope } from '@correo/mime';
import type { BodyStructure, Envelope } from '@correo/mime';
import { inTransaction } from './transaction.js';
import type pg from 'pg';
import { insertStoredBodies } from './message-bodies.js';
import type { MailboxWriter } from './mailbox-writer.js';
import type { Pool } from './pool.js';
import { ensureMailbox } from './mailboxes.js';
import { asBlobCollected } from './blob-collection.js';

/** What SORT and THREAD compare (libs/mime sortKeys), kept in the sort_* and thread_* columns. */
export interface MessageSortKeys {
  subject: string;
  from: string;
  to: string;
  cc: string;
  displayFrom: string;
  displayTo: string;
  messageId: string | null;
  references: string[];
}

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
  /** Kept through @correo/mime's versioned stored shape; null when the analysis is not kept (tests). */
  envelope: Envelope | null;
  bodystructure: BodyStructure | null;
  /** The Date header's day in its own zone (YYYY-MM-DD); null without a usable Date. */
  sentDay: string | null;
  /** Decoded header fields for SEARCH TEXT. */
  headerText: string;
  /** Decoded body text for SEARCH BODY/TEXT; null when not kept whole (search reads the blob). */
  bodyText: string | null;
  sortKeys: MessageSortKeys;
  /** The zone the internal date was given in (APPEND), in minutes east of UTC; UTC when absent. */
  internalZone?: number;
}

/** PostgreSQL text cannot hold NUL; a search string cannot contain one either (IMAP forbids it). */
const withoutNul = (text: string): string => (text.includes('\0') ? text.replaceAll('\0', '') : text);

/** The sort_* and thread_* column values, in the order insertMessage and fillSortKeys write them. */
export function sortKeyColumns(keys: MessageSortKeys): unknown[] {
  return [
    withoutNul(keys.subject),
    withoutNul(keys.from),
    withoutNul(keys.to),
    withoutNul(keys.cc),
    withoutNul(keys.displayFrom),
    withoutNul(keys.displayTo),
    keys.messageId === null ? null : withoutNul(keys.messageId),
    keys.references.map(withoutNul),
  ];
}

/** sortKeyColumns of several messages, one array per column (references as JSON arrays). */
function sortKeyColumnArrays(keys: MessageSortKeys[]): unknown[][] {
  const columns = keys.map(sortKeyColumns);
  return Array.from({ length: 8 }, (_, i) =>
    columns.map((row) => (i === 7 ? JSON.stringify(row[i]) : row[i])),
  );
}

/** The internal date's calendar day in its own zone: what SEARCH BEFORE/ON/SINCE compare. */
function internalDay(message: MessageFacts): string {
  return new Date(message.internalDate.getTime() + (message.internalZone ?? 0) * 60_000)
    .toISOString()
    .slice(0, 10);
}

export interface LocalDelivery {
  /** The MailAccepted event id. */
  eventId: string;
  /** The envelope recipient as received (lowercased here). */
  recipient: string;
  accountId: string;
  /** Defaults to INBOX; created on first delivery. */
  mailboxName?: string;
  /** IMAP flags and keywords the copy is stored with (a Sieve script's imap4flags); none by default. */
  flags?: string[];
  message: MessageFacts;
  /**
   * The message's bytes, when they are to be kept in the database (message_bodies, written in this
   * filing's transaction) instead of the blob store: the caller has not stored them anywhere else.
   * Kept only when a copy is really filed (a redelivered duplicate writes nothing).
   */
  body?: Uint8Array;
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

/** forward-limit: an external forward over MDA_MAX_FORWARDS_PER_MESSAGE (migration 0041). */
export type RejectionReason = 'unknown-user' | 'loop' | 'over-quota' | 'relay-denied' | 'forward-limit';

export interface Rejection {
  eventId: string;
  recipient: string;
  accountId?: string | undefined;
  reason: RejectionReason;
  detail?: string;
}

/**
 * Files one message into one mailbox of one account, exactly once per (event, recipient, mailbox).
 *
 * Everything happens in one transaction that first locks the account row: deliveries to one account
 * are serialised, so the duplicate check, the quota check, the used_bytes update and the UID/MODSEQ
 * allocation cannot interleave with another delivery of the same event (a rebalanced consumer) or
 * of another message. The caller acknowledges the bus event only after this resolves.
 */
export async function deliverToMailbox(
  writer: MailboxWriter,
  delivery: LocalDelivery,
): Promise<DeliveryOutcome> {
  const [outcome] = await deliverManyToMailboxes(writer, [delivery]);
  return outcome!;
}

/**
 * Files several deliveries in one transaction (one WAL flush for a whole bus batch), each exactly
 * as if filed alone and in the order given, with a fixed number of statements per batch instead of
 * several per delivery: lock the accounts (in id order, so concurrent batches cannot deadlock),
 * find the mailboxes, find earlier outcomes (after the lock, so a concurrent delivery of the same
 * key is seen), then allocate UIDs and MODSEQs per mailbox, charge the quotas, insert the messages
 * and file them with multi-row statements. All or nothing: a throw rolls every one back.
 * After the commit, each delivered copy is published on the writer's feed.
 */
export async function deliverManyToMailboxes(
  writer: MailboxWriter,
  deliveries: LocalDelivery[],
): Promise<DeliveryOutcome[]> {
  const wanted = deliveries.map((d) => ({
    ...d,
    recipient: d.recipient.toLowerCase(),
    mailboxName: d.mailboxName ?? 'INBOX',
  }));
  if (wanted.length === 0) return [];
  const filed = await inTransaction(writer.pool, async (client) => {
    const locked = await client.query<{ id: string; quota_bytes: string | null; used_bytes: string }>({
      name: 'correo-file-lock-accounts',
      text: 'SELECT id, quota_bytes, used_bytes FROM accounts WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE',
      values: [[...new Set(wanted.map((d) => d.accountId))]],
    });
    const accounts = new Map(
      locked.rows.map((r) => [
        r.id,
        { quota: r.quota_bytes === null ? null : Number(r.quota_bytes), used: Number(r.used_bytes) },
      ]),
    );

    const mailboxKey = (accountId: string, name: string) => `${accountId}\n${name}`;
    const pairs = [
      ...new Map(wanted.map((d) => [mailboxKey(d.accountId, d.mailboxName), d])).values(),
    ].filter((d) => accounts.has(d.accountId));
    const found = await client.query<{ id: string; account_id: string; name: string }>({
      name: 'correo-file-mailboxes',
      text: `SELECT m.id, m.account_id, m.name FROM mailboxes m
               JOIN unnest($1::bigint[], $2::text[]) AS k(account_id, name)
                 ON m.account_id = k.account_id AND m.name = k.name`,
      values: [pairs.map((d) => d.accountId), pairs.map((d) => d.mailboxName)],
    });
    const mailboxes = new Map(found.rows.map((r) => [mailboxKey(r.account_id, r.name), r.id]));
    for (const d of pairs) {
      const key = mailboxKey(d.accountId, d.mailboxName);
      // Created by the first delivery to it (ensureMailbox copes with a concurrent first delivery).
      if (!mailboxes.has(key)) mailboxes.set(key, await ensureMailbox(client, d.accountId, d.mailboxName));
    }

    // A statement of its own, after the lock: its snapshot sees what the lock holder committed.
    const targets = wanted.filter((d) => accounts.has(d.accountId));
    const earlier = await client.query<{ key: string }>({
      name: 'correo-file-earlier',
      text: `SELECT d.event_id || '/' || d.recipient || '/' || d.mailbox_id AS key FROM deliveries d
               JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS k(event_id, recipient, mailbox_id)
                 ON d.event_id = k.event_id AND d.recipient = k.recipient AND d.mailbox_id = k.mailbox_id
             UNION ALL
             SELECT r.event_id || '/' || r.recipient || '/@' || r.account_id FROM delivery_rejections r
               JOIN unnest($1::text[], $2::text[], $4::bigint[]) AS k(event_id, recipient, account_id)
                 ON r.event_id = k.event_id AND r.recipient = k.recipient AND r.account_id = k.account_id`,
      values: [
        targets.map((d) => d.eventId),
        targets.map((d) => d.recipient),
        targets.map((d) => mailboxes.get(mailboxKey(d.accountId, d.mailboxName))!),
        targets.map((d) => d.accountId),
      ],
    });
    const handled = new Set(earlier.rows.map((r) => r.key));

    // Decided in the order given: duplicates (also within this batch), quotas, and how many UIDs
    // each mailbox hands out.
    const outcomes: DeliveryOutcome[] = [];
    const filed: { index: number; delivery: (typeof wanted)[number]; mailboxId: string; nth: number }[] = [];
    const perMailbox = new Map<string, number>();
    const charged = new Map<string, number>();
    const overQuota: Rejection[] = [];
    for (const [index, d] of wanted.entries()) {
      const account = accounts.get(d.accountId);
      if (!account) {
        outcomes[index] = { kind: 'unknown-user' };
        continue;
      }
      const mailboxId = mailboxes.get(mailboxKey(d.accountId, d.mailboxName))!;
      const key = `${d.eventId}/${d.recipient}/${mailboxId}`;
      const rejectedKey = `${d.eventId}/${d.recipient}/@${d.accountId}`;
      if (handled.has(key) || handled.has(rejectedKey)) {
        outcomes[index] = { kind: 'duplicate' };
        continue;
      }
      if (account.quota !== null && account.used + d.message.size > account.quota) {
        const detail = `${d.message.size} bytes do not fit: ${account.used} of ${account.quota} bytes used`;
        overQuota.push({
          eventId: d.eventId,
          recipient: d.recipient,
          accountId: d.accountId,
          reason: 'over-quota',
          detail,
        });
        outcomes[index] = { kind: 'over-quota', quotaBytes: account.quota, usedBytes: account.used };
        handled.add(rejectedKey);
        continue;
      }
      handled.add(key);
      account.used += d.message.size;
      charged.set(d.accountId, (charged.get(d.accountId) ?? 0) + d.message.size);
      const nth = perMailbox.get(mailboxId) ?? 0;
      perMailbox.set(mailboxId, nth + 1);
      filed.push({ index, delivery: d, mailboxId, nth });
    }
    for (const rejection of overQuota) await insertRejection(client, rejection);
    if (filed.length === 0) return outcomes;

    const allocated = await client.query<{ id: string; first_uid: string; base_modseq: string }>({
      name: 'correo-file-allocate',
      text: `WITH charged AS (
               UPDATE accounts a SET used_bytes = a.used_bytes + c.bytes
                 FROM unnest($3::bigint[], $4::bigint[]) AS c(id, bytes) WHERE a.id = c.id)
             UPDATE mailboxes m SET uidnext = m.uidnext + c.n, highestmodseq = m.highestmodseq + c.n
               FROM unnest($1::bigint[], $2::bigint[]) AS c(id, n) WHERE m.id = c.id
             RETURNING m.id, m.uidnext - c.n AS first_uid, m.highestmodseq - c.n AS base_modseq`,
      values: [[...perMailbox.keys()], [...perMailbox.values()], [...charged.keys()], [...charged.values()]],
    });
    const firsts = new Map(
      allocated.rows.map((r) => [r.id, { uid: Number(r.first_uid), modseq: Number(r.base_modseq) }]),
    );

    const messageIds = await insertMessages(
      client,
      filed.map(({ delivery }) => ({
        accountId: delivery.accountId,
        message: delivery.message,
        receivedEventId: delivery.eventId,
      })),
    );
    const rows = filed.map(({ index, delivery, mailboxId, nth }, i) => {
      const first = firsts.get(mailboxId)!;
      const row = {
        index,
        delivery,
        mailboxId,
        uid: first.uid + nth,
        modseq: first.modseq + nth + 1,
        messageId: messageIds[i]!,
      };
      outcomes[index] = {
        kind: 'delivered',
        accountId: delivery.accountId,
        mailboxId,
        uid: row.uid,
        modseq: row.modseq,
        messageId: row.messageId,
      };
      return row;
    });
    await client.query({
      name: 'correo-file-messages',
      text: `WITH filed AS (
               INSERT INTO mailbox_messages (account_id, mailbox_id, uid, message_id, modseq, idempotency_key, flags)
               SELECT m.account_id, m.mailbox_id, m.uid, m.message_id, m.modseq, m.key,
                      ARRAY(SELECT jsonb_array_elements_text(m.flags))
                 FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[],
                             $9::jsonb[]) AS m(account_id, mailbox_id, uid, message_id, modseq, key, flags))
             INSERT INTO deliveries (event_id, recipient, account_id, mailbox_id)
             SELECT * FROM unnest($7::text[], $8::text[], $1::bigint[], $2::bigint[])`,
      values: [
        rows.map((r) => r.delivery.accountId),
        rows.map((r) => r.mailboxId),
        rows.map((r) => r.uid),
        rows.map((r) => r.messageId),
        rows.map((r) => r.modseq),
        rows.map((r) => `${r.delivery.eventId}/${r.delivery.recipient}/${r.mailboxId}`),
        rows.map((r) => r.delivery.eventId),
        rows.map((r) => r.delivery.recipient),
        // jsonb per row: a text[][] column array would need every row's flags of one length.
        rows.map((r) => JSON.stringify([...new Set(r.delivery.flags ?? [])].sort())),
      ],
    });
    // After the messages rows: their insert trigger holds each key's blob lock until this commits.
    await insertStoredBodies(
      client,
      rows.flatMap(({ delivery }) =>
        delivery.body ? [{ blobKey: delivery.message.blobKey, bytes: delivery.body }] : [],
      ),
    );
    return outcomes;
  });
  await Promise.all(
    filed.map((outcome) =>
      outcome.kind === 'delivered'
        ? writer.changes.publish(outcome.accountId, {
            mailboxId: outcome.mailboxId,
            uid: outcome.uid,
            modseq: outcome.modseq,
            kind: 'append',
          })
        : undefined,
    ),
  );
  return filed;
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
  const [id] = await insertMessages(client, [{ accountId, message, receivedEventId }]);
  return id!;
}

/**
 * Several messages rows in one statement. Their ids are drawn from the identity's sequence first
 * (or were drawn by the caller: `drawnIds`, one per row), so each caller's row is known without
 * relying on the order of RETURNING.
 */
export async function insertMessages(
  client: pg.PoolClient,
  rows: { accountId: string; message: MessageFacts; receivedEventId: string | null }[],
  drawnIds?: readonly string[],
): Promise<string[]> {
  const ids = drawnIds
    ? [...drawnIds]
    : (
        await client.query<{ id: string }>({
          name: 'correo-message-ids',
          text: `SELECT nextval(pg_get_serial_sequence('messages', 'id'))::text AS id FROM generate_series(1, $1)`,
          values: [rows.length],
        })
      ).rows.map((r) => r.id);
  const insert = messagesInsert(rows, '$1::bigint[]', 2);
  // The insert trigger refuses a blob the collector deleted (blob-collection.ts): BlobCollectedError.
  await client
    .query({ name: 'correo-insert-messages', text: insert.text, values: [ids, ...insert.values] })
    .catch((error: unknown) => {
      throw asBlobCollected(error);
    });
  return ids;
}

/**
 * The INSERT of messages rows, for insertMessages and for statements that insert them among other
 * writes (IMAP APPEND: libs/store imap/append.ts): `ids` is an SQL expression of a bigint[] (one id per
 * row, drawn before; rows whose id is NULL are skipped), the other columns are parameters from
 * `$first` on, `values` in order.
 */
export function messagesInsert(
  rows: readonly { accountId: string; message: MessageFacts; receivedEventId: string | null }[],
  ids: string,
  first: number,
): { text: string; values: unknown[] } {
  const column = <T>(pick: (row: (typeof rows)[number]) => T) => rows.map(pick);
  // The SQL types of the columns after id, in the order of `values` below.
  const types = (
    'bigint text bigint text timestamptz text text text text text text timestamptz text jsonb jsonb ' +
    'date date text text text text text text text text text jsonb'
  ).split(' ');
  const params = types.map((type, i) => `$${first + i}::${type}[]`).join(', ');
  return {
    text: `INSERT INTO messages (id, account_id, blob_key, size, sha256, internal_date, received_event_id,
       header_subject, header_from, header_to, header_cc, header_message_id, header_date, header_in_reply_to,
       envelope_json, bodystructure_json, sent_day, internal_day, header_text, body_text,
       sort_subject, sort_from, sort_to, sort_cc, sort_display_from, sort_display_to,
       thread_message_id, thread_references, sort_keys_filled)
     OVERRIDING SYSTEM VALUE
     SELECT m.id, m.account_id, m.blob_key, m.size, m.sha256, m.internal_date, m.received_event_id,
            m.subject, m.from_, m.to_, m.cc, m.message_id, m.date, m.in_reply_to,
            m.envelope, m.bodystructure, m.sent_day, m.internal_day, m.header_text, m.body_text,
            m.sort_subject, m.sort_from, m.sort_to, m.sort_cc, m.sort_display_from, m.sort_display_to,
            m.thread_message_id, ARRAY(SELECT jsonb_array_elements_text(m.thread_references)), TRUE
       FROM unnest(${ids}, ${params})
         AS m(id, account_id, blob_key, size, sha256, internal_date, received_event_id, subject, from_, to_,
              cc, message_id, date, in_reply_to, envelope, bodystructure, sent_day, internal_day, header_text,
              body_text, sort_subject, sort_from, sort_to, sort_cc, sort_display_from, sort_display_to,
              thread_message_id, thread_references)
      WHERE m.id IS NOT NULL`,
    values: [
      column((r) => r.accountId),
      column((r) => r.message.blobKey),
      column((r) => r.message.size),
      column((r) => r.message.sha256),
      column((r) => r.message.internalDate),
      column((r) => r.receivedEventId),
      column((r) => r.message.subject),
      column((r) => r.message.from),
      column((r) => r.message.to),
      column((r) => r.message.cc),
      column((r) => r.message.messageId),
      column((r) => r.message.date),
      column((r) => r.message.inReplyTo),
      column((r) => JSON.stringify(r.message.envelope && storedEnvelope(r.message.envelope))),
      column((r) => JSON.stringify(r.message.bodystructure && storedBodyStructure(r.message.bodystructure))),
      column((r) => r.message.sentDay),
      column((r) => internalDay(r.message)),
      column((r) => withoutNul(r.message.headerText)),
      column((r) => (r.message.bodyText === null ? null : withoutNul(r.message.bodyText))),
      ...sortKeyColumnArrays(rows.map((r) => r.message.sortKeys)),
    ],
  };
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
