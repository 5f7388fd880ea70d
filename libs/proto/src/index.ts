import { createHash } from 'node:crypto';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { MailAcceptedSchema } from './gen/correo/v1/mail_accepted_pb.js';
import type { MailAccepted } from './gen/correo/v1/mail_accepted_pb.js';
import { OutboundMessageSchema } from './gen/correo/v1/outbound_message_pb.js';
import type { OutboundMessage } from './gen/correo/v1/outbound_message_pb.js';
import { DeadLetterSchema } from './gen/correo/v1/dead_letter_pb.js';
import type { DeadLetter } from './gen/correo/v1/dead_letter_pb.js';

export * from './gen/correo/v1/common_pb.js';
export * from './gen/correo/v1/mail_accepted_pb.js';
export * from './gen/correo/v1/outbound_message_pb.js';
export * from './gen/correo/v1/dead_letter_pb.js';
export { create, fromBinary, toBinary } from '@bufbuild/protobuf';
export { timestampDate, timestampFromDate, timestampNow } from '@bufbuild/protobuf/wkt';

export type MailAcceptedInit = MessageInitShape<typeof MailAcceptedSchema>;
export type OutboundMessageInit = MessageInitShape<typeof OutboundMessageSchema>;
export type DeadLetterInit = MessageInitShape<typeof DeadLetterSchema>;

/** The bytes of a mail.accepted record value. Accepts a plain init object or a created message. */
export function encodeMailAccepted(event: MailAcceptedInit): Uint8Array {
  return toBinary(MailAcceptedSchema, create(MailAcceptedSchema, event));
}

/** Throws on bytes that are not a valid MailAccepted encoding. */
export function decodeMailAccepted(bytes: Uint8Array): MailAccepted {
  return fromBinary(MailAcceptedSchema, bytes);
}

export function encodeOutboundMessage(job: OutboundMessageInit): Uint8Array {
  return toBinary(OutboundMessageSchema, create(OutboundMessageSchema, job));
}

export function decodeOutboundMessage(bytes: Uint8Array): OutboundMessage {
  return fromBinary(OutboundMessageSchema, bytes);
}

export function encodeDeadLetter(letter: DeadLetterInit): Uint8Array {
  return toBinary(DeadLetterSchema, create(DeadLetterSchema, letter));
}

export function decodeDeadLetter(bytes: Uint8Array): DeadLetter {
  return fromBinary(DeadLetterSchema, bytes);
}

/**
 * A name-based UUID (version 8 layout, RFC 9562 section 5.8, over SHA-256 of the parts): the same
 * inputs always give the same event id, so an event published again after a crash (an outbound
 * job, a DSN) is recognised downstream as a repeat. node:crypto only makes random UUIDs.
 */
export function nameBasedId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\n')).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export { generatedMessageRecord } from './generated-message.js';
export type { GeneratedMessage, GeneratedMessageRecord } from './generated-message.js';
