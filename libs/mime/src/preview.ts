import { decodeTextBody } from './body-decode.js';
import { htmlToSearchText } from './html-text.js';
import type { BodyStructure, TextBody } from './types.js';

/** RFC 8970 3: a preview is at most 256 characters. */
export const PREVIEW_MAX_CHARS = 256;

/**
 * Encoded octets read of the previewed part: enough for 256 characters of base64 or quoted-printable
 * text in a 4-byte charset, and for the markup around them in HTML.
 */
export const PREVIEW_READ_OCTETS = { plain: 4096, html: 32 * 1024 };

/**
 * The part a preview is made of (RFC 8970 3: the first text a reader would see): the first inline
 * text/plain body, else the first inline text/html one; message/rfc822 parts (forwarded mail) and
 * attachments are not looked into. Null when the message has no such part (its preview is "").
 */
export function previewPart(root: BodyStructure): TextBody | null {
  const inline = (part: BodyStructure): part is TextBody =>
    part.kind === 'text' && part.disposition?.type !== 'attachment';
  const walk = (part: BodyStructure, subtype: string): TextBody | null => {
    if (part.kind === 'multipart') {
      for (const child of part.parts) {
        const found = walk(child, subtype);
        if (found) return found;
      }
      return null;
    }
    return inline(part) && part.subtype === subtype ? part : null;
  };
  return walk(root, 'plain') ?? walk(root, 'html');
}

/**
 * The preview of `part` from the first octets of its body (`raw`, at most PREVIEW_READ_OCTETS):
 * transfer-decoded, charset-converted, HTML reduced to its text, whitespace runs made one space, and
 * cut to 256 characters without splitting a surrogate pair.
 */
export function previewText(raw: Buffer, part: TextBody, complete: boolean): string {
  // A cut body may end inside a base64 quantum or a quoted-printable escape: drop its last line.
  let bytes = raw;
  if (!complete) {
    const lastLine = bytes.lastIndexOf(0x0a);
    if (lastLine > 0) bytes = bytes.subarray(0, lastLine + 1);
  }
  let text = decodeTextBody(bytes, part);
  if (part.subtype === 'html') text = htmlToSearchText(text);
  const chars = [...text.replace(/\s+/gu, ' ').trim()];
  return chars
    .slice(0, PREVIEW_MAX_CHARS)
    .join('')
    .replace(/\p{Cc}/gu, '');
}
