import { headerSection, headerValue } from './original-headers.js';

export interface ParsedReport {
  /** The value of the top Content-Type, e.g. "multipart/report; report-type=delivery-status; ...". */
  contentType: string;
  /** Content-Type (without parameters, lowercase) of each top-level part, in order. */
  partTypes: string[];
  /** The per-message field group of message/delivery-status, field names lowercased. */
  message: Record<string, string>;
  /** One field group per recipient. */
  recipients: Record<string, string>[];
  /** The text/rfc822-headers part as returned, or undefined when absent. */
  returnedHeaders: string | undefined;
}

/**
 * Reads back a DSN made by buildDsn (or any flat RFC 3464 report). Mail parsers fold
 * message/delivery-status into the text body, so the few lines that pick its field groups apart
 * are written here; the relay's tests and anyone who reads bounces use them.
 */
export function parseDsn(raw: Buffer): ParsedReport {
  const text = raw.toString('utf8');
  const contentType = headerValue(headerSection(raw), 'content-type') ?? '';
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!/^multipart\/report/i.test(contentType) || !boundary) {
    throw new Error(`not a multipart/report: Content-Type ${JSON.stringify(contentType)}`);
  }
  const end = text.indexOf(`\r\n--${boundary}--`);
  const parts = text
    .slice(0, end === -1 ? undefined : end)
    .split(`--${boundary}\r\n`)
    .slice(1)
    .map((part) => {
      const split = part.indexOf('\r\n\r\n');
      const head = part.slice(0, split + 2);
      const body = part.slice(split + 4);
      const type = (headerValue(Buffer.from(head), 'content-type') ?? 'text/plain').split(';')[0]!;
      return { type: type.trim().toLowerCase(), body };
    });
  const status = parts.find((part) => part.type === 'message/delivery-status');
  if (!status) throw new Error('the report has no message/delivery-status part');
  const groups = status.body
    .split(/\r\n\r\n/)
    .map((group) => group.trim())
    .filter((group) => group !== '')
    .map(fieldGroup);
  return {
    contentType,
    partTypes: parts.map((part) => part.type),
    message: groups[0] ?? {},
    recipients: groups.slice(1),
    returnedHeaders: parts.find((part) => part.type === 'text/rfc822-headers')?.body,
  };
}

function fieldGroup(group: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of group.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return fields;
}
