/**
 * Modified UTF-7 for mailbox names (RFC 3501 section 5.1.3). Hand-written because the npm `utf7`
 * package decodes leniently (it accepts non-canonical and truncated forms), and a parser must refuse them.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function toModifiedBase64Bytes(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',');
}

function toModifiedBase64(units: number[]): string {
  const bytes = Buffer.alloc(units.length * 2);
  units.forEach((u, i) => bytes.writeUInt16BE(u, i * 2));
  return toModifiedBase64Bytes(bytes);
}

export function encodeMailboxName(name: string): string {
  let out = '';
  let pending: number[] = [];
  const flush = (): void => {
    if (pending.length) out += `&${toModifiedBase64(pending)}-`;
    pending = [];
  };
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    if (unit >= 0x20 && unit <= 0x7e) {
      flush();
      out += unit === 0x26 ? '&-' : name[i];
    } else {
      pending.push(unit);
    }
  }
  flush();
  return out;
}

/** Decodes a modified UTF-7 name; returns an error text for a malformed one. */
export function decodeMailboxName(encoded: string): { name: string } | { error: string } {
  let out = '';
  let i = 0;
  while (i < encoded.length) {
    const ch = encoded[i]!;
    if (ch !== '&') {
      // 8-bit text is taken as already-decoded UTF-8: some clients send it without ENABLE UTF8=ACCEPT.
      out += ch;
      i++;
      continue;
    }
    const close = encoded.indexOf('-', i + 1);
    if (close < 0) return { error: 'Mailbox name has "&" without a closing "-" (modified UTF-7)' };
    const run = encoded.slice(i + 1, close);
    i = close + 1;
    if (run === '') {
      out += '&';
      continue;
    }
    if (!/^[A-Za-z0-9+,]+$/.test(run) || run.length % 4 === 1) {
      return { error: 'Mailbox name has invalid modified UTF-7' };
    }
    const bytes = Buffer.from(run.replace(/,/g, '/'), 'base64');
    // Leftover bits must be zero and the bytes whole UTF-16 units, or the encoding is not canonical.
    if (bytes.length % 2 !== 0 || toModifiedBase64Bytes(bytes) !== run) {
      return { error: 'Mailbox name has invalid modified UTF-7' };
    }
    for (let k = 0; k < bytes.length; k += 2) {
      const unit = bytes.readUInt16BE(k);
      if (unit >= 0x20 && unit <= 0x7e)
        return { error: 'Mailbox name encodes printable ASCII in modified UTF-7' };
      out += String.fromCharCode(unit);
    }
  }
  if (LONE_SURROGATE.test(out)) return { error: 'Mailbox name has an unpaired UTF-16 surrogate' };
  return { name: out };
}
