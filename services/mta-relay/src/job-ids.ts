import { createHash } from 'node:crypto';

/**
 * A name-based UUID (version 8 layout, RFC 9562 section 5.8, over SHA-256): the same inputs give the
 * same id, so a DSN published again after a crash is recognised as a repeat downstream (the mda's
 * idempotency keys, the relay's queue).
 */
export function nameBasedId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\n')).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
