import { randomUUID } from 'node:crypto';
import { encodeMailAccepted, SubmissionKind, timestampNow } from '@correo/proto';
import type { Bus } from '@correo/bus';

/**
 * Publishes a MailAccepted from a remote sender straight onto mail.accepted, as smtp-ingress would
 * after a 250: for what a client cannot cause (a recipient changed since RCPT, a missing blob).
 * Returns the event id.
 */
export async function publishAccepted(
  bus: Bus,
  event: { recipient: string; blobKey: string; size: number | bigint | string; sha256: string },
): Promise<string> {
  const eventId = randomUUID();
  await bus.publish('mail.accepted', [
    {
      key: eventId,
      value: encodeMailAccepted({
        eventId,
        receivedAt: timestampNow(),
        clientIp: '127.0.0.1',
        mailFrom: 'someone@remote.test',
        recipients: [{ address: event.recipient }],
        blobKey: event.blobKey,
        size: BigInt(event.size),
        sha256: event.sha256,
        kind: SubmissionKind.MX,
      }),
    },
  ]);
  return eventId;
}
