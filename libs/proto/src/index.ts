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
  const message = create(MailAcceptedSchema, event);
  const { analysis, body } = message;
  if (analysis.length + body.length < LARGE_FIELDS_BYTES) return toBinary(MailAcceptedSchema, message);
  // The rest by the library, then the two large bytes fields by hand into one buffer of the exact
  // size: protobuf-es's writer starts at 128 bytes and doubles (zeroed, then copied) up to the size
  // of the body it holds, then copies the whole once more; for a 4 KB message that growth was 1.2%
  // of the all-in-one's CPU (docs/performance.md, "Fifth round"), and its version offers no writer
  // to presize or reuse. Fields may come in any order on the wire (the protobuf encoding spec), so
  // a reader sees the same message; with no spam verdict (field 21) the bytes are even toBinary's.
  // The message without them (put back at once: it may be the caller's, when it came created).
  message.analysis = NO_BYTES;
  message.body = NO_BYTES;
  let head: Uint8Array;
  try {
    head = toBinary(MailAcceptedSchema, message);
  } finally {
    message.analysis = analysis;
    message.body = body;
  }
  // Every byte is written below: no need to zero it first (a plain Uint8Array view of it, as
  // toBinary returns: a decoder's bytes fields are views of what it was given).
  const size = head.length + bytesFieldSize(ANALYSIS_FIELD, analysis) + bytesFieldSize(BODY_FIELD, body);
  const unzeroed = Buffer.allocUnsafe(size);
  const out = new Uint8Array(unzeroed.buffer, unzeroed.byteOffset, size);
  out.set(head, 0);
  writeBytesField(out, writeBytesField(out, head.length, ANALYSIS_FIELD, analysis), BODY_FIELD, body);
  return out;
}

/** Below this the library's own encoding is as cheap (its writer grows a few times at most). */
const LARGE_FIELDS_BYTES = 1024;
const NO_BYTES = new Uint8Array(0);
// MailAccepted.analysis and MailAccepted.body (proto/correo/v1/mail_accepted.proto), both bytes.
const ANALYSIS_FIELD = MailAcceptedSchema.field.analysis.number;
const BODY_FIELD = MailAcceptedSchema.field.body.number;
const LENGTH_DELIMITED = 2;

/** A bytes field's size on the wire (tag, length, bytes); 0 for empty bytes (proto3: not written). */
function bytesFieldSize(field: number, bytes: Uint8Array): number {
  if (bytes.length === 0) return 0;
  return varintSize((field << 3) | LENGTH_DELIMITED) + varintSize(bytes.length) + bytes.length;
}

function writeBytesField(out: Uint8Array, at: number, field: number, bytes: Uint8Array): number {
  if (bytes.length === 0) return at;
  at = writeVarint(out, at, (field << 3) | LENGTH_DELIMITED);
  at = writeVarint(out, at, bytes.length);
  out.set(bytes, at);
  return at + bytes.length;
}

function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

function writeVarint(out: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[at++] = value;
  return at;
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
