import { storedBodyStructure, storedEnvelope } from '@correo/mime';
import type { BodyStructure, Envelope } from '@correo/mime';
import { packBytes } from '@correo/bus';
import type { BatchOffset } from '@correo/bus';
import type pg from 'pg';
import type { MailboxWriter } from './mailbox-writer.js';
import type { Pool } from './pool.js';
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

/** A row of file_deliveries (migration 0380), one per delivery. */
interface FiledRow {
  out_kind: 'delivered' | 'duplicate' | 'over-quota' | 'unknown-user';
  out_mailbox: string | null;
  out_uid: string | null;
  out_modseq: string | null;
  out_message: string | null;
  out_quota: string | null;
  out_used: string | null;
}

/**
 * Files several deliveries in one transaction (one WAL flush for a whole bus batch), each exactly
 * as if filed alone and in the order given: one server-side call, file_deliveries (migration 0380,
 * which says what it does and in which order), so a batch costs one round trip instead of the ten of
 * its statements with BEGIN and COMMIT. All or nothing: a throw rolls every one back. `consumed`
 * (the PostgreSQL-table bus) is committed in that same transaction; pass it only when nothing of
 * the batch is left to do after the filing. A copy whose account was deleted meanwhile is recorded
 * as an 'unknown-user' rejection by the same transaction. After the commit, each delivered
 * copy is published on the writer's feed.
 */
export async function deliverManyToMailboxes(
  writer: MailboxWriter,
  deliveries: LocalDelivery[],
  consumed?: BatchOffset,
): Promise<DeliveryOutcome[]> {
  if (deliveries.length === 0) return [];
  // Each body once, however many copies share it; a copy points at its bytes in the packed buffer.
  const bodies = new Map<string, Uint8Array>();
  for (const d of deliveries) if (d.body) bodies.set(d.message.blobKey, d.body);
  const packed = packBytes([...bodies.values()]);
  const bodyAt = new Map([...bodies.keys()].map((key, i) => [key, i]));
  const bodyOf = (d: LocalDelivery) => (d.body ? bodyAt.get(d.message.blobKey) : undefined);
  const { rows } = await writer.pool
    .query<FiledRow>({
      name: 'correo-file-deliveries',
      text: `SELECT * FROM file_deliveries(${Array.from({ length: 37 }, (_, i) => `$${i + 1}`).join(', ')})`,
      values: [
        deliveries.map((d) => d.accountId),
        deliveries.map((d) => d.mailboxName ?? 'INBOX'),
        deliveries.map((d) => d.eventId),
        deliveries.map((d) => d.recipient.toLowerCase()),
        // jsonb per row: a text[][] column array would need every row's flags of one length.
        deliveries.map((d) => JSON.stringify([...new Set(d.flags ?? [])].sort())),
        ...messageFactColumns(deliveries.map((d) => d.message)),
        packed.bytes,
        deliveries.map((d) => {
          const at = bodyOf(d);
          return at === undefined ? null : packed.starts[at];
        }),
        deliveries.map((d) => {
          const at = bodyOf(d);
          return at === undefined ? null : packed.lengths[at];
        }),
        consumed?.group ?? null,
        consumed?.topic ?? null,
        consumed?.partition ?? null,
        consumed?.nextOffset ?? null,
      ],
    })
    .catch((error: unknown) => {
      throw asBlobCollected(error);
    });
  const outcomes = rows.map((row, i): DeliveryOutcome => {
    switch (row.out_kind) {
      case 'delivered':
        return {
          kind: 'delivered',
          accountId: deliveries[i]!.accountId,
          mailboxId: row.out_mailbox!,
          uid: Number(row.out_uid),
          modseq: Number(row.out_modseq),
          messageId: row.out_message!,
        };
      case 'over-quota':
        return { kind: 'over-quota', quotaBytes: Number(row.out_quota), usedBytes: Number(row.out_used) };
      default:
        return { kind: row.out_kind };
    }
  });
  await Promise.all(
    outcomes.map((outcome) =>
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
  return outcomes;
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
  const facts = messageFactColumns(rows.map((r) => r.message));
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
      rows.map((r) => r.accountId),
      ...facts.slice(0, 4),
      rows.map((r) => r.receivedEventId),
      ...facts.slice(4),
    ],
  };
}

/**
 * The columns of messages rows that come from the message itself, one array per column, in the order
 * insertMessages and file_deliveries (migration 0380) take them: blob key to thread references.
 */
function messageFactColumns(messages: MessageFacts[]): unknown[][] {
  const column = <T>(pick: (message: MessageFacts) => T) => messages.map(pick);
  return [
    column((m) => m.blobKey),
    column((m) => m.size),
    column((m) => m.sha256),
    column((m) => m.internalDate),
    column((m) => m.subject),
    column((m) => m.from),
    column((m) => m.to),
    column((m) => m.cc),
    column((m) => m.messageId),
    column((m) => m.date),
    column((m) => m.inReplyTo),
    column((m) => JSON.stringify(m.envelope && storedEnvelope(m.envelope))),
    column((m) => JSON.stringify(m.bodystructure && storedBodyStructure(m.bodystructure))),
    column((m) => m.sentDay),
    column(internalDay),
    column((m) => withoutNul(m.headerText)),
    column((m) => (m.bodyText === null ? null : withoutNul(m.bodyText))),
    ...sortKeyColumnArrays(messages.map((m) => m.sortKeys)),
  ];
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
