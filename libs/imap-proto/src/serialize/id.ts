import type { ImapValue } from './encoder.js';
import { atom, nstr, str, untagged } from './encoder.js';

/** `* ID ("name" "correo" ...)` or `* ID NIL` (RFC 2971). */
export function idResponse(params: Array<[field: string, value: string | null]> | null): Buffer {
  const list: ImapValue =
    params === null ? null : params.flatMap(([field, value]) => [str(field), nstr(value)]);
  return untagged([atom('ID'), list]);
}
