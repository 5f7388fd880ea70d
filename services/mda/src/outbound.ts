import { SubmissionKind, encodeOutboundMessage, nameBasedId, timestampNow } from '@correo/proto';
import type { MailAccepted } from '@correo/proto';
import type { OutgoingMessage } from '@correo/bus';
import type { ExternalTarget } from './recipients.js';

/** The same event and domain always give the same job id, so the relay recognises a republished job. */
export function outboundJobId(eventId: string, domain: string): string {
  return nameBasedId('mail.outbound', eventId, domain);
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
      // What the relay's signing decision rests on: who submitted it, or that it came in from outside.
      enteredBy: event.kind,
      tenantId: event.kind === SubmissionKind.SUBMISSION ? event.tenantId : '',
    }),
  }));
}
