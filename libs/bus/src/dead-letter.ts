import {
  decodeDeadLetter as decodeProto,
  encodeDeadLetter as encodeProto,
  timestampDate,
  timestampFromDate,
} from '@correo/proto';
import type { Headers } from './port.js';

/**
 * What the dead-letter topic carries: the failed message exactly as it was delivered, and why
 * it failed. On the wire it is the correo.v1.DeadLetter protobuf message, so any consumer
 * (an operator's replay tool, another language) reads it without this package.
 */
export interface DeadLetter {
  group: string;
  topic: string;
  partition: number;
  offset: string;
  key: string | undefined;
  headers: Headers;
  value: Buffer;
  error: string;
  attempts: number;
  /** ISO 8601. */
  failedAt: string;
}

export function encodeDeadLetter(letter: DeadLetter): Buffer {
  const bytes = encodeProto({
    consumerGroup: letter.group,
    originalTopic: letter.topic,
    partition: letter.partition,
    offset: letter.offset,
    ...(letter.key === undefined ? {} : { key: Buffer.from(letter.key, 'utf8') }),
    headers: Object.fromEntries(Object.entries(letter.headers).map(([k, v]) => [k, Buffer.from(v, 'utf8')])),
    value: letter.value,
    error: letter.error,
    attempts: letter.attempts,
    failedAt: timestampFromDate(new Date(letter.failedAt)),
  });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function decodeDeadLetter(bytes: Uint8Array): DeadLetter {
  const letter = decodeProto(bytes);
  return {
    group: letter.consumerGroup,
    topic: letter.originalTopic,
    partition: letter.partition,
    offset: letter.offset,
    key: letter.key === undefined ? undefined : Buffer.from(letter.key).toString('utf8'),
    headers: Object.fromEntries(
      Object.entries(letter.headers).map(([k, v]) => [k, Buffer.from(v).toString('utf8')]),
    ),
    value: Buffer.from(letter.value),
    error: letter.error,
    attempts: letter.attempts,
    failedAt: (letter.failedAt ? timestampDate(letter.failedAt) : new Date(0)).toISOString(),
  };
}
