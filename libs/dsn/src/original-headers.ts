/** The header section of a raw message: everything before the first empty line, with CRLF ends. */
export function headerSection(raw: Buffer): Buffer {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return raw;
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return raw.subarray(0, crlf + 2);
  return Buffer.from(
    raw
      .subarray(0, lf + 1)
      .toString('latin1')
      .replace(/\r?\n/g, '\r\n'),
    'latin1',
  );
}

/** The first value of a header field in a header section, unfolded; undefined when absent. */
export function headerValue(headers: Buffer, name: string): string | undefined {
  const text = headers.toString('utf8').replace(/\r?\n[ \t]+/g, ' ');
  const prefix = `${name.toLowerCase()}:`;
  for (const line of text.split(/\r?\n/)) {
    if (line.toLowerCase().startsWith(prefix)) return line.slice(prefix.length).trim();
  }
  return undefined;
}

/**
 * The end of a multipart/report (RFC 6522): `lines` (its header and parts so far, CRLF-joined), then
 * the original's header section as the last part (text/rfc822-headers), then the closing boundary.
 */
export function withOriginalHeaders(lines: string[], headers: Buffer, boundary: string): Buffer {
  return Buffer.concat([
    Buffer.from(
      [...lines, `--${boundary}`, 'Content-Type: text/rfc822-headers', '', ''].join('\r\n'),
      'utf8',
    ),
    headers,
    Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8'),
  ]);
}
