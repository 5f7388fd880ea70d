import { randomBytes } from 'node:crypto';
import { deliveryStatusBody, oneLine, rfc5322Date } from './delivery-status.js';
import type { DeliveryStatusFields } from './delivery-status.js';
import { headerSection, headerValue, withOriginalHeaders } from './original-headers.js';

export interface DsnInput extends DeliveryStatusFields {
  /** The original MAIL FROM: the DSN goes there (RFC 3464 section 2, RFC 5321 section 4.5.5). */
  to: string;
  /** Defaults to MAILER-DAEMON@<reportingMta>. */
  from?: string;
  /** The original message's raw bytes; only its header section is returned (RET=HDRS, our default). */
  original: Buffer;
  date?: Date;
  /** Without angle brackets; defaults to a random one at reportingMta. */
  messageId?: string;
}

const ACTION_TEXT: Record<string, string> = {
  failed: 'could not be delivered',
  delayed: 'has not been delivered yet; delivery will be retried',
  delivered: 'was delivered',
  relayed: 'was relayed to a system that does not send delivery notifications',
  expanded: 'was delivered and forwarded',
};

/**
 * Builds an RFC 3464 delivery status notification: a multipart/report (RFC 6522) with a
 * human-readable part, the message/delivery-status part and the original's header section as
 * text/rfc822-headers. Written by hand because nodemailer's composer cannot make a
 * multipart/report with a report-type parameter, and the format is small and fixed.
 */
export function buildDsn(input: DsnInput): Buffer {
  const date = input.date ?? new Date();
  const boundary = `=_correo_dsn_${randomBytes(12).toString('hex')}`;
  const from = input.from ?? `MAILER-DAEMON@${oneLine(input.reportingMta)}`;
  const messageId = input.messageId ?? `${randomBytes(12).toString('hex')}@${oneLine(input.reportingMta)}`;
  const headers = headerSection(input.original);
  const originalSubject = headerValue(headers, 'subject');
  const originalMessageId = headerValue(headers, 'message-id');
  const allFailed = input.recipients.every((r) => r.action === 'failed');
  const subject = allFailed
    ? 'Undelivered Mail Returned to Sender'
    : input.recipients.every((r) => r.action === 'delayed')
      ? 'Delayed Mail (still being retried)'
      : 'Delivery Status Notification';

  const human = [
    `This is the mail system at ${oneLine(input.reportingMta)}.`,
    '',
    originalSubject
      ? `Your message "${oneLine(originalSubject)}" reports the following:`
      : 'Your message reports the following:',
    '',
    ...input.recipients.map((r) => {
      const reason = r.diagnosticCode ? `: ${oneLine(r.diagnosticCode)}` : '';
      return `<${oneLine(r.finalRecipient)}> ${ACTION_TEXT[r.action] ?? r.action} (${r.status})${reason}`;
    }),
    '',
  ].join('\r\n');

  const lines = [
    `From: Mail Delivery System <${oneLine(from)}>`,
    `To: <${oneLine(input.to)}>`,
    `Subject: ${subject}`,
    `Date: ${rfc5322Date(date)}`,
    `Message-ID: <${oneLine(messageId)}>`,
    ...(originalMessageId ? [`In-Reply-To: ${oneLine(originalMessageId)}`] : []),
    // RFC 3834: an automatic reply, so vacation responders and the like stay quiet.
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated delivery status notification.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    human,
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    deliveryStatusBody(input),
  ];
  return withOriginalHeaders(lines, headers, boundary);
}
