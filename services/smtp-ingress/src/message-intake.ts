import { randomUUID } from 'node:crypto';
import { PassThrough, pipeline } from 'node:stream';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { BlobTooLargeError, type BlobStore, type StoredBlob } from '@correo/blobs';
import type { Bus } from '@correo/bus';
import type { AccountRef } from '@correo/directory';
import {
  DsnNotify,
  DsnReturn,
  SubmissionKind,
  encodeMailAccepted,
  timestampFromDate,
  type MailAcceptedInit,
} from '@correo/proto';
import { injectTraceContext, withSpan } from '@correo/telemetry';
import { DataSizeLimit, MessageTooLargeError } from './data-size-limit.js';
import { HeaderBlockRewriter, HeaderTooLargeError, missingSubmissionHeaders } from './header-block.js';
import { LineEndingGuard, LineTooLongError } from './line-endings.js';
import { receivedHeader } from './received-header.js';
import { rfc5322Date } from './rfc5322-date.js';
import { SmtpReply, replies } from './smtp-reply.js';

export const MAIL_ACCEPTED_TOPIC = 'mail.accepted';

export interface IntakeContext {
  bus: Bus;
  blobs: BlobStore;
  topic: string;
  hostname: string;
  maxMessageBytes: number;
  maxHeaderBytes: number;
  maxLineLength: number;
  kind: 'mx' | 'submission';
  listenerPort: number;
}

export interface AcceptedMessage {
  eventId: string;
  blob: StoredBlob;
}

// Room for what we add to a message (Received, Message-ID, Date) on top of the client's maximum.
const ADDED_HEADERS_ALLOWANCE = 64 * 1024;

/**
 * Streams one DATA into the blob store and publishes MailAccepted. Resolves only when both are durable;
 * rejects with an SmtpReply (552/500 for the message, 451 for any backend failure). On failure the rest of
 * the client's DATA is drained, never stored, and no event is published (a stored blob may stay behind as
 * an unreferenced orphan, which nothing delivers).
 */
export async function receiveMessage(
  source: SMTPServerDataStream,
  session: SMTPServerSession,
  context: IntakeContext,
): Promise<AcceptedMessage> {
  const eventId = randomUUID();
  const receivedAt = new Date();
  const account = session.user as AccountRef | undefined;
  const recipients = session.envelope.rcptTo.map((rcpt) => rcpt.address);

  const prepend = receivedHeader({
    helo: session.hostNameAppearsAs || '',
    clientIp: session.remoteAddress,
    clientHostname: session.clientHostname || `[${session.remoteAddress}]`,
    hostname: context.hostname,
    protocol: session.transmissionType || 'ESMTP',
    id: eventId,
    recipients,
    tls: session.tlsOptions ? `${session.tlsOptions.version} ${session.tlsOptions.name}` : undefined,
    receivedAt,
  });
  const complete =
    context.kind === 'submission'
      ? (header: string) =>
          missingSubmissionHeaders(header, `${eventId}@${context.hostname}`, rfc5322Date(receivedAt))
      : () => '';

  // The tap is ours to cut: on failure smtp-server's stream is unpiped and drained, never destroyed, so
  // the client is answered only after its final dot, as RFC 5321 requires.
  const tap = new PassThrough();
  const message = new HeaderBlockRewriter({ prepend, complete, maxHeaderBytes: context.maxHeaderBytes });
  source.pipe(tap);
  // A client that disconnects mid-DATA leaves smtp-server's stream closed without 'end'.
  const abandon = () => {
    if (!source.readableEnded) tap.destroy(new Error('connection closed during DATA'));
  };
  source.once('close', abandon);
  source.once('error', abandon);
  pipeline(
    tap,
    new DataSizeLimit(context.maxMessageBytes),
    new LineEndingGuard(context.maxLineLength),
    message,
    () => {
      /* errors reach blobs.put through `message` */
    },
  );

  let blob: StoredBlob;
  try {
    blob = await context.blobs.put(message, { maxBytes: context.maxMessageBytes + ADDED_HEADERS_ALLOWANCE });
  } catch (error) {
    source.unpipe(tap);
    tap.destroy();
    source.resume();
    throw asReply(error, context.maxMessageBytes, context.maxHeaderBytes);
  }

  const envelope = session.envelope;
  const event: MailAcceptedInit = {
    eventId,
    receivedAt: timestampFromDate(receivedAt),
    clientIp: session.remoteAddress,
    helo: session.hostNameAppearsAs || '',
    authenticatedUser: account?.address ?? '',
    mailFrom: envelope.mailFrom ? envelope.mailFrom.address : '',
    recipients: envelope.rcptTo.map((rcpt) => ({
      address: rcpt.address,
      originalRecipient: rcpt.dsn?.orcpt ?? '',
      notify: (rcpt.dsn?.notify ?? []).map(dsnNotify),
    })),
    blobKey: blob.key,
    size: BigInt(blob.size),
    sha256: blob.sha256,
    kind: context.kind === 'mx' ? SubmissionKind.MX : SubmissionKind.SUBMISSION,
    port: context.listenerPort,
    smtputf8: Boolean(envelope.smtpUtf8),
    eightBitMime: envelope.bodyType === '8bitmime',
    dsn: {
      ret:
        envelope.dsn?.ret === 'FULL'
          ? DsnReturn.FULL
          : envelope.dsn?.ret === 'HDRS'
            ? DsnReturn.HEADERS
            : DsnReturn.UNSPECIFIED,
      envelopeId: envelope.dsn?.envid ?? '',
    },
  };
  try {
    await withSpan('smtp-ingress publish mail.accepted', async (span) => {
      span.setAttribute('correo.event_id', eventId);
      await context.bus.publish(context.topic, [
        { key: eventId, value: encodeMailAccepted(event), headers: injectTraceContext({}) },
      ]);
    });
  } catch (error) {
    throw replies.backendFailure(error);
  }
  return { eventId, blob };
}

function asReply(error: unknown, maxMessageBytes: number, maxHeaderBytes: number): SmtpReply {
  if (error instanceof SmtpReply) return error;
  if (error instanceof MessageTooLargeError || error instanceof BlobTooLargeError)
    return replies.tooLarge(maxMessageBytes);
  if (error instanceof HeaderTooLargeError) return replies.headerTooLarge(maxHeaderBytes);
  if (error instanceof LineTooLongError) return replies.lineTooLong(error.maxLength);
  return replies.backendFailure(error);
}

function dsnNotify(value: string): DsnNotify {
  switch (value.toUpperCase()) {
    case 'NEVER':
      return DsnNotify.NEVER;
    case 'SUCCESS':
      return DsnNotify.SUCCESS;
    case 'FAILURE':
      return DsnNotify.FAILURE;
    case 'DELAY':
      return DsnNotify.DELAY;
    default:
      return DsnNotify.UNSPECIFIED;
  }
}
