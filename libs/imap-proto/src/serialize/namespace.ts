import type { EncodeOptions, ImapValue } from './encoder.js';
import { atom, str, untagged } from './encoder.js';
import { encodeMailboxName } from '../mutf7.js';

export interface Namespace {
  prefix: string;
  delimiter: string | null;
}

function namespaceList(namespaces: Namespace[] | null, options: EncodeOptions): ImapValue {
  if (!namespaces || namespaces.length === 0) return null;
  return namespaces.map((n) => [
    str(options.utf8 ? n.prefix : encodeMailboxName(n.prefix)),
    n.delimiter === null ? null : str(n.delimiter),
  ]);
}

/** `* NAMESPACE (("" "/")) NIL NIL`: personal, other users', shared (RFC 2342). */
export function namespaceResponse(
  personal: Namespace[] | null,
  otherUsers: Namespace[] | null,
  shared: Namespace[] | null,
  options: EncodeOptions = {},
): Buffer {
  return untagged(
    [
      atom('NAMESPACE'),
      namespaceList(personal, options),
      namespaceList(otherUsers, options),
      namespaceList(shared, options),
    ],
    options,
  );
}
