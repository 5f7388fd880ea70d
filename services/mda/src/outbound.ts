import { createHash } from 'node:crypto';
import { encodeOutboundMessage, timestampNow } from '@correo/proto';
import type { MailAccepted } from '@correo/proto';
import type { OutgoingMessage } from '@correo/bus';
import type { ExternalTarget } from './recipients.js';

/**
 * The same event and domain always give the same job id, so when a crash makes the mda publish a
 * job again the relay can recognise the repeat. A name-based UUID (version 8 layout, RFC 9562
 * section 5.8) over SHA-256, since node:crypto only makes random UUIDs.
 */
export function outboundJobId(eventId: string, domain: string): string {
  const hex = createHash('sha256').update(`mail.outbound\n${eventId}\n${domain}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** One OutboundMessage per destination domain, keyed by domain so one relay partition batches a domain. */
export function outboundJobs(
  event: MailAccepted,
  external: Map<string, ExternalTarget[]>,
  headers: Record<string, string>,
): OutgoingMessage[] {
  return [...external].map(([domain, targets]) => ({
    key: domain,
    headers,
    value: encodeOutboundMessage({
      eventId: outboundJobId(event.eventId, domain),
      originalEventId: event.eventId,
      mailFrom: event.mailFrom,
      destinationDomain: domain,
      recipients: targets.map((target) => ({
        address: target.address,
        originalRecipient: target.originalRecipient,
        notify: target.notify,
      })),
      blobKey: event.blobKey,
      size: event.size,
      sha256: event.sha256,
      attempt: 0,
      queuedAt: event.receivedAt ?? timestampNow(),
      dsn: event.dsn,
      smtputf8: event.smtputf8,
      eightBitMime: event.eightBitMime,
    }),
  }));
}
