import { createHash } from 'node:crypto';
import { encode, wrap } from 'libqp';
import libmime from 'libmime';
import { oneLine, rfc5322Date } from './delivery-status.js';
import { headerSection, headerValue, withOriginalHeaders } from './original-headers.js';

/** What every automatic answer to one message has: who, when, and the message it answers. */
export interface AutoReplyInput {
  /** The From address (bare address or `Name <address>`). */
  from: string;
  /** The original envelope sender: the answer goes there (RFC 3834 4, RFC 5230 5.1). */
  to: string;
  /** The original message's raw bytes (only its header section is read). */
  original: Buffer;
  date: Date;
  /** Without angle brackets. Fixed by the caller, so a redelivery builds the same bytes. */
  messageId: string;
}

export interface VacationReplyInput extends AutoReplyInput {
  subject: string;
  /** The body text, or with `mime` a whole MIME entity (its own header fields, RFC 5230 4.4). */
  reason: string;
  mime: boolean;
}

export interface RejectionNoticeInput extends AutoReplyInput {
  /** The host name for Reporting-UA. */
  reportingUa: string;
  /** The address the message was refused for. */
  finalRecipient: string;
  /** The script's reason (RFC 5429 2.1: goes into the human-readable part). */
  reason: string;
}

/**
 * An RFC 5230 vacation reply: text/plain UTF-8 (quoted-printable) or the script's MIME entity, with
 * In-Reply-To/References to the original and Auto-Submitted: auto-replied (RFC 3834), so the other
 * side's responders stay quiet. Written by hand beside buildDsn for the same reason: the bytes must
 * be the same on every build (nodemailer's composer draws its own boundaries and ids).
 */
export function buildVacationReply(input: VacationReplyInput): Buffer {
  const head = replyHeader(input, input.subject, 'auto-replied');
  const body = input.mime
    ? crlf(input.reason)
    : [
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        wrap(encode(crlf(input.reason)), 76),
      ].join('\r\n');
  return Buffer.from(`${head}${body}\r\n`, 'utf8');
}

/**
 * The RFC 5429 2.1 answer to a rejected message after it was accepted: an MDN (RFC 8098) whose
 * human-readable part carries the script's reason, a disposition of "deleted", and the original's
 * header section (not its body: the notice must not carry more than the message to its sender).
 */
export function buildRejectionNotice(input: RejectionNoticeInput): Buffer {
  const boundary = `=_correo_mdn_${createHash('sha256').update(input.messageId).digest('hex').slice(0, 24)}`;
  const headers = headerSection(input.original);
  const originalMessageId = headerValue(headers, 'message-id');
  const lines = [
    // Pigeonhole's wording; RFC 3834 5.1 asks for the rejection to be recognisable as automatic.
    replyHeader(input, 'Automatically rejected mail', 'auto-replied (rejected)') +
      `Content-Type: multipart/report; report-type=disposition-notification; boundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    wrap(
      encode(
        crlf(
          `Your message to <${oneLine(input.finalRecipient)}> was automatically rejected:\n${input.reason}\n`,
        ),
      ),
      76,
    ),
    `--${boundary}`,
    'Content-Type: message/disposition-notification',
    '',
    `Reporting-UA: ${oneLine(input.reportingUa)}; correo`,
    `Final-Recipient: rfc822; ${oneLine(input.finalRecipient)}`,
    ...(originalMessageId ? [`Original-Message-ID: ${oneLine(originalMessageId)}`] : []),
    'Disposition: automatic-action/MDN-sent-automatically; deleted',
    '',
  ];
  return withOriginalHeaders(lines, headers, boundary);
}

/** From, To, Subject, Date, Message-ID, threading, Auto-Submitted and MIME-Version, CRLF-ended. */
function replyHeader(input: AutoReplyInput, subject: string, autoSubmitted: string): string {
  const original = headerSection(input.original);
  const originalId = headerValue(original, 'message-id');
  const references = [headerValue(original, 'references'), originalId].filter(Boolean).join(' ');
  const from = oneLine(input.from);
  const fields = [
    `From: ${from.includes('<') ? libmime.encodeWords(from, 'Q', 52) : `<${from}>`}`,
    `To: <${oneLine(input.to)}>`,
    `Subject: ${libmime.encodeWords(oneLine(subject), 'Q', 52)}`,
    `Date: ${rfc5322Date(input.date)}`,
    `Message-ID: <${oneLine(input.messageId)}>`,
    ...(originalId ? [`In-Reply-To: ${oneLine(originalId)}`] : []),
    ...(references ? [`References: ${oneLine(references)}`] : []),
    `Auto-Submitted: ${autoSubmitted}`,
    'MIME-Version: 1.0',
  ];
  return fields.map((field) => libmime.foldLines(field, 76).replace(/\r?\n/g, '\r\n')).join('\r\n') + '\r\n';
}

function crlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}
