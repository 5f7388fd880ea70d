import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import type { MessageView } from './api-types.js';
import type { SanitizedHtml } from './sanitize-html.js';

export type { MessageView } from './api-types.js';

export interface ParsedMessage {
  view: MessageView;
  parsed: ParsedMail;
  /** The body sanitised with remote images blocked, once asked for. */
  safeHtml?: SanitizedHtml;
}

export async function parseMessage(
  folder: string,
  uid: number,
  source: Buffer,
  flags: Set<string>,
): Promise<ParsedMessage> {
  // cid: parts become data: URLs inside the HTML (mailparser's default), so inline images show
  // without any request; they are then not listed as attachments.
  const parsed = await simpleParser(source, { skipTextToHtml: true });
  const attachments = parsed.attachments
    .map((attachment, index) => ({ attachment, index }))
    .filter(({ attachment }) => !attachment.related)
    .map(({ attachment, index }) => ({
      index,
      filename: attachment.filename ?? `attachment-${index + 1}`,
      contentType: attachment.contentType,
      size: attachment.size,
    }));
  const references = parsed.references === undefined ? [] : [parsed.references].flat();
  return {
    parsed,
    view: {
      folder,
      uid,
      subject: parsed.subject ?? '',
      from: addresses(parsed.from),
      replyTo: firstAddress(parsed.replyTo) ?? firstAddress(parsed.from) ?? '',
      sender: (firstAddress(parsed.from) ?? '').toLowerCase(),
      to: addresses(parsed.to),
      cc: addresses(parsed.cc),
      recipients: [...list(parsed.to), ...list(parsed.cc)].flatMap((object) =>
        object.value.flatMap((entry) => (entry.address ? [entry.address] : [])),
      ),
      date: parsed.date ? parsed.date.toISOString() : null,
      messageId: parsed.messageId ?? null,
      references,
      seen: flags.has('\\Seen'),
      flagged: flags.has('\\Flagged'),
      answered: flags.has('\\Answered'),
      text: parsed.text ?? '',
      hasHtml: typeof parsed.html === 'string' && parsed.html.trim() !== '',
      attachments,
    },
  };
}

function list(value: AddressObject | AddressObject[] | undefined): AddressObject[] {
  return value === undefined ? [] : [value].flat();
}

function addresses(value: AddressObject | AddressObject[] | undefined): string {
  return list(value)
    .map((object) => object.text)
    .join(', ');
}

function firstAddress(value: AddressObject | AddressObject[] | undefined): string | undefined {
  for (const object of list(value)) {
    for (const entry of object.value) if (entry.address) return entry.address;
  }
  return undefined;
}
