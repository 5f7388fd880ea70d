import type { Transform } from 'node:stream';
import libbase64 from 'libbase64';
import libqp from 'libqp';

/**
 * A stream that undoes a Content-Transfer-Encoding (RFC 2045 6), for IMAP BINARY (RFC 3516): null for
 * the identity encodings (7BIT, 8BIT, BINARY), 'unknown' for any other (the server then answers
 * NO [UNKNOWN-CTE]). Streams, so a big attachment is decoded as it is read, never held whole.
 */
export function transferDecoder(encoding: string): Transform | null | 'unknown' {
  switch (encoding.toUpperCase()) {
    case '7BIT':
    case '8BIT':
    case 'BINARY':
      return null;
    case 'BASE64':
      return new libbase64.Decoder();
    case 'QUOTED-PRINTABLE':
      return new libqp.Decoder();
    default:
      return 'unknown';
  }
}
