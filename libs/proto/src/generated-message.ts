import { domainToASCII } from 'node:url';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SubmissionKind } from './gen/correo/v1/common_pb.js';
import { encodeMailAccepted, encodeOutboundMessage } from './index.js';
import type { OutboundMessageInit } from './index.js';

/** A message the system wrote itself (a DSN, a Sieve vacation reply or rejection notice). */
export interface GeneratedMessage {
  /** Stable for the same cause (nameBasedId), so a republished one is recognised as a repeat. */
  eventId: string;
  /** The event it answers. */
  originalEventId: string;
  /** The one recipient: the original sender. */
  to: string;
  /** Whether `to`'s domain is one of ours (Directory.isLocalDomain). */
  local: boolean;
  blob: { key: string; size: number; sha256: string };
  /** The host writing it (the HELO of the event a local recipient gets). */
  reportingHost: string;
  /** For a remote recipient: who the relay charges and whose DKIM key may sign it. */
  outbound?: Pick<OutboundMessageInit, 'enteredBy' | 'tenantId' | 'chargedTo' | 'chargedTenantId'>;
}

/** Where a generated message goes on the bus: which topic, under which key, with which value. */
export interface GeneratedMessageRecord {
  topic: 'accepted' | 'outbound';
  key: string;
  value: Uint8Array;
}

/**
 * The bus record for a generated message, always with the null reverse-path (it is never bounced:
 * RFC 5321 4.5.5, RFC 3834): a local recipient gets it as a MailAccepted that the mda files like any
 * mail (aliases, rules, quota, exactly once by event id), a remote one as an OutboundMessage the
 * relay delivers (one job per event id).
 */
export function generatedMessageRecord(message: GeneratedMessage, now = new Date()): GeneratedMessageRecord {
  const queuedAt = timestampFromDate(now);
  const blob = { blobKey: message.blob.key, size: BigInt(message.blob.size), sha256: message.blob.sha256 };
  if (message.local) {
    return {
      topic: 'accepted',
      key: message.to.toLowerCase(),
      value: encodeMailAccepted({
        eventId: message.eventId,
        receivedAt: queuedAt,
        clientIp: '',
        helo: message.reportingHost,
        mailFrom: '',
        recipients: [{ address: message.to }],
        ...blob,
        kind: SubmissionKind.MX,
        port: 0,
      }),
    };
  }
  const domain = message.to.slice(message.to.lastIndexOf('@') + 1).toLowerCase();
  const destination = domainToASCII(domain) || domain;
  return {
    topic: 'outbound',
    key: destination,
    value: encodeOutboundMessage({
      eventId: message.eventId,
      originalEventId: message.originalEventId,
      mailFrom: '',
      destinationDomain: destination,
      recipients: [{ address: message.to }],
      ...blob,
      attempt: 0,
      queuedAt,
      isBounce: true,
      eightBitMime: true,
      ...message.outbound,
    }),
  };
}
