import type { Pool } from '@correo/store';

export interface DeliveredRow {
  recipient: string;
  account_id: string;
  mailbox_id: string;
  mailbox_name: string;
  uid: string;
  modseq: string;
  blob_key: string;
  size: string;
  internal_date: Date;
  header_subject: string | null;
  header_from: string | null;
  header_message_id: string | null;
  envelope_json: unknown;
  bodystructure_json: unknown;
  idempotency_key: string;
}

/** Every copy an event put into a mailbox, joined the way IMAP would read it. */
export async function deliveredRows(pool: Pool, eventId: string): Promise<DeliveredRow[]> {
  const { rows } = await pool.query<DeliveredRow>(
    `SELECT d.recipient, d.account_id, d.mailbox_id, mb.name AS mailbox_name, mm.uid, mm.modseq,
            m.blob_key, m.size, m.internal_date, m.header_subject, m.header_from, m.header_message_id,
            m.envelope_json, m.bodystructure_json, mm.idempotency_key
       FROM deliveries d
       JOIN mailboxes mb ON mb.id = d.mailbox_id
       JOIN messages m ON m.received_event_id = d.event_id AND m.account_id = d.account_id
       JOIN mailbox_messages mm ON mm.message_id = m.id AND mm.mailbox_id = d.mailbox_id
      WHERE d.event_id = $1
      ORDER BY d.account_id`,
    [eventId],
  );
  return rows;
}

export async function rejections(
  pool: Pool,
  eventId: string,
): Promise<{ recipient: string; reason: string; account_id: string | null; detail: string }[]> {
  const { rows } = await pool.query(
    'SELECT recipient, reason, account_id, detail FROM delivery_rejections WHERE event_id = $1 ORDER BY recipient',
    [eventId],
  );
  return rows;
}

/** Deliveries plus rejections recorded for the event: how many decisions the mda has committed. */
export async function outcomeCount(pool: Pool, eventId: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT (SELECT count(*) FROM deliveries WHERE event_id = $1)
          + (SELECT count(*) FROM delivery_rejections WHERE event_id = $1) AS n`,
    [eventId],
  );
  return Number(rows[0]!.n);
}
