/** One header field with its value unfolded (RFC 5322 2.2.3) and trimmed, but not decoded. */
export interface HeaderField {
  /** Lowercased field name. */
  name: string;
  value: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Header bytes are UTF-8 under RFC 6532; anything else is 8-bit junk that we keep byte for byte as
 * latin1 rather than turning it into replacement characters.
 */
export function headerBytesToString(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  }
}

/**
 * Splits a raw header block into fields. Written by hand because libmime.decodeHeaders works on a
 * string (we decode each field's bytes on its own so one bad field can't garble the others) and we
 * need the plain unfolded value for ENVELOPE. Lines without a colon are skipped, as Dovecot does.
 */
export function parseHeaderBlock(block: Buffer): HeaderField[] {
  const fields: HeaderField[] = [];
  let current: Buffer[] | null = null;
  const flush = (): void => {
    if (!current) return;
    const line = Buffer.concat(current);
    current = null;
    const colon = line.indexOf(0x3a);
    if (colon <= 0) return;
    const name = line.subarray(0, colon).toString('latin1').trim().toLowerCase();
    if (!name || /[\s]/.test(name)) return;
    fields.push({ name, value: headerBytesToString(line.subarray(colon + 1)).trim() });
  };
  let pos = 0;
  while (pos < block.length) {
    let nl = block.indexOf(0x0a, pos);
    if (nl === -1) nl = block.length;
    let end = nl;
    while (end > pos && block[end - 1] === 0x0d) end--;
    const line = block.subarray(pos, end);
    pos = nl + 1;
    if (line.length === 0) break;
    if (line[0] === 0x20 || line[0] === 0x09) {
      // Unfolding removes only the line break, keeping the whitespace that starts the next line.
      if (current) current.push(line);
      continue;
    }
    flush();
    current = [line];
  }
  flush();
  return fields;
}

/** The first value of a field, or null. */
export function firstField(fields: HeaderField[], name: string): string | null {
  for (const f of fields) if (f.name === name) return f.value;
  return null;
}
