import type { Transform } from 'node:stream';
import libbase64 from 'libbase64';
import libqp from 'libqp';

/**
 * What undoing a Content-Transfer-Encoding (RFC 2045 6) takes, for IMAP BINARY (RFC 3516): nothing for
 * the identity encodings (7BIT, 8BIT, BINARY), a decoder for BASE64 and QUOTED-PRINTABLE; any other is
 * 'unknown' (the server then answers NO [UNKNOWN-CTE]).
 */
export type TransferDecoding = 'identity' | 'base64' | 'quoted-printable' | 'unknown';

export function transferDecoding(encoding: string): TransferDecoding {
  switch (encoding.toUpperCase()) {
    case '7BIT':
    case '8BIT':
    case 'BINARY':
      return 'identity';
    case 'BASE64':
      return 'base64';
    case 'QUOTED-PRINTABLE':
      return 'quoted-printable';
    default:
      return 'unknown';
  }
}

/** A stream that decodes as it reads, so a big attachment is never held whole. */
export function transferDecoder(decoding: 'base64' | 'quoted-printable'): Transform {
  return decoding === 'base64' ? new libbase64.Decoder() : new libqp.Decoder();
}
