import iconv from 'iconv-lite';
import libbase64 from 'libbase64';
import libmime from 'libmime';
import libqp from 'libqp';
import type { ContentInfo } from './content-headers.js';

// Labels that are UTF-8 or a subset of it; mail marked us-ascii often carries UTF-8 anyway.
const UTF8_LABELS = new Set([
  '',
  'utf-8',
  'utf8',
  'us-ascii',
  'ascii',
  'ansi_x3.4-1968',
  'unicode-1-1-utf-8',
]);

/** Undoes the Content-Transfer-Encoding; unknown encodings pass through as they are. */
export function decodeTransfer(raw: Buffer, encoding: string): Buffer {
  try {
    // libbase64 reads a Buffer as already decoded, so it gets the text.
    if (encoding === 'BASE64') return libbase64.decode(raw.toString('latin1'));
    if (encoding === 'QUOTED-PRINTABLE') return libqp.decode(raw);
  } catch {
    // fall through: index the raw bytes rather than nothing
  }
  return raw;
}

/** Converts body bytes in `charset` to a JS string (UTF-8 when the label is unknown). */
export function charsetToString(bytes: Buffer, charset: string | undefined): string {
  let label = (charset ?? '').trim().toLowerCase();
  if (UTF8_LABELS.has(label)) return bytes.toString('utf8');
  // What browsers do: latin1 labels mean windows-1252.
  if (label === 'iso-8859-1' || label === 'latin1' || label === 'l1') label = 'windows-1252';
  try {
    if (iconv.encodingExists(label)) return iconv.decode(bytes, label);
  } catch {
    // fall through
  }
  return bytes.toString('utf8');
}

/** The text of a text/* body: transfer-decoded, charset-converted, format=flowed joined. */
export function decodeTextBody(raw: Buffer, content: ContentInfo): string {
  const text = charsetToString(decodeTransfer(raw, content.encoding), content.params.charset);
  if (content.subtype === 'plain' && content.params.format?.toLowerCase() === 'flowed') {
    try {
      return libmime.decodeFlowed(text, content.params.delsp?.toLowerCase() === 'yes');
    } catch {
      return text;
    }
  }
  return text;
}
