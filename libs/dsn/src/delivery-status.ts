/**
 * The message/delivery-status body of RFC 3464 section 2: one per-message field group, then one
 * group per recipient, groups separated by a blank line. Field values come from our own MTA or
 * a remote SMTP reply, so every value is folded onto one line: a CR or LF from a hostile reply
 * must never start a new field.
 */

export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded';

export interface DsnRecipient {
  /** The address the MTA tried (Final-Recipient, rfc822). */
  finalRecipient: string;
  /** RFC 3461 ORCPT as "addr-type;address" when the submitter gave one. */
  originalRecipient?: string | undefined;
  action: DsnAction;
  /** An RFC 3463 enhanced status code, e.g. "5.1.1". */
  status: string;
  /** The remote MTA's host name, when one answered. */
  remoteMta?: string | undefined;
  /** The SMTP reply as received ("550 5.1.1 no such user"), or this MTA's own reason. */
  diagnosticCode?: string | undefined;
  /** The diagnostic-type: "smtp" (default) for a remote reply, e.g. "x-correo" for our own reason. */
  diagnosticType?: string | undefined;
  lastAttemptDate?: Date | undefined;
  /** Until when a delayed message will still be retried. */
  willRetryUntil?: Date | undefined;
}

export interface DeliveryStatusFields {
  /** This MTA's host name (Reporting-MTA: dns; ...). */
  reportingMta: string;
  /** RFC 3461 ENVID of the original submission. */
  originalEnvelopeId?: string | undefined;
  arrivalDate?: Date | undefined;
  recipients: DsnRecipient[];
}

const STATUS = /^[245]\.\d{1,3}\.\d{1,3}$/;

export function oneLine(value: string): string {
  return value.replace(/[\r\n\t]+/g, ' ').trim();
}

/** RFC 5322 date-time, as Date and Arrival-Date fields carry it. */
export function rfc5322Date(date: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${days[date.getUTCDay()]}, ${date.getUTCDate()} ${months[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}

export function deliveryStatusBody(fields: DeliveryStatusFields): string {
  if (fields.recipients.length === 0) throw new Error('a DSN reports on at least one recipient');
  const groups: string[][] = [];
  const message = [`Reporting-MTA: dns; ${oneLine(fields.reportingMta)}`];
  if (fields.originalEnvelopeId) message.push(`Original-Envelope-Id: ${oneLine(fields.originalEnvelopeId)}`);
  if (fields.arrivalDate) message.push(`Arrival-Date: ${rfc5322Date(fields.arrivalDate)}`);
  groups.push(message);

  for (const recipient of fields.recipients) {
    if (!STATUS.test(recipient.status)) {
      throw new Error(`"${recipient.status}" is not an RFC 3463 status code`);
    }
    const group: string[] = [];
    if (recipient.originalRecipient) {
      const orcpt = oneLine(recipient.originalRecipient);
      group.push(`Original-Recipient: ${orcpt.includes(';') ? orcpt : `rfc822;${orcpt}`}`);
    }
    group.push(`Final-Recipient: rfc822;${oneLine(recipient.finalRecipient)}`);
    group.push(`Action: ${recipient.action}`);
    group.push(`Status: ${recipient.status}`);
    if (recipient.remoteMta) group.push(`Remote-MTA: dns; ${oneLine(recipient.remoteMta)}`);
    if (recipient.diagnosticCode)
      group.push(
        `Diagnostic-Code: ${recipient.diagnosticType ?? 'smtp'}; ${oneLine(recipient.diagnosticCode)}`,
      );
    if (recipient.lastAttemptDate) group.push(`Last-Attempt-Date: ${rfc5322Date(recipient.lastAttemptDate)}`);
    if (recipient.willRetryUntil) group.push(`Will-Retry-Until: ${rfc5322Date(recipient.willRetryUntil)}`);
    groups.push(group);
  }
  return groups.map((group) => group.join('\r\n') + '\r\n').join('\r\n');
}
