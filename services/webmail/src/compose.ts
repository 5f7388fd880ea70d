import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { Logger } from 'pino';
import type { Outgoing } from './api-types.js';
import { submissionSocket, tlsOptions } from './gateways.js';
import type { MailAccount } from './mail-account.js';
import { sanitizeOutgoingHtml } from './sanitize-html.js';
import type { Uploads } from './uploads.js';
import { WebmailError } from './webmail-error.js';

/** A message as the compose form holds it, checked and resolved by the route (routes/send.ts). */
export interface Composed {
  from: { name: string; address: string };
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  text: string;
  html?: string | undefined;
  attachments: { filename: string; contentType: string; content: Buffer }[];
  /** Threading of a reply: In-Reply-To and References. */
  threading?: { messageId: string; references: string[] } | undefined;
  /** Where the draft came from, kept in the draft so that reopening it keeps replying/forwarding. */
  origin?: Pick<Outgoing, 'inReplyTo' | 'forwardOf'>;
}

/** The header a draft carries its origin in (the message it answers or forwards); never sent. */
export const DRAFT_ORIGIN_HEADER = 'x-correo-draft-origin';

/**
 * MIME for a composed message: multipart/alternative (text/plain beside the sanitised HTML) when it is
 * rich text, inside multipart/mixed with the attachments. A draft keeps Bcc and its origin header; a
 * message to send has neither in its header (Bcc only reaches the envelope).
 */
export async function buildMime(
  message: Composed,
  kind: 'send' | 'draft',
): Promise<{ raw: Buffer; messageId: string }> {
  const html = message.html === undefined ? undefined : sanitizeOutgoingHtml(message.html);
  const composer = new MailComposer({
    from: message.from.name
      ? { name: message.from.name, address: message.from.address }
      : message.from.address,
    to: message.to,
    cc: message.cc,
    ...(kind === 'draft' ? { bcc: message.bcc } : {}),
    subject: message.subject,
    text: message.text,
    ...(html !== undefined ? { html } : {}),
    attachments: message.attachments.map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      content: a.content,
    })),
    ...(message.threading
      ? {
          inReplyTo: message.threading.messageId,
          references: [...message.threading.references, message.threading.messageId],
        }
      : {}),
    ...(kind === 'draft' && message.origin && (message.origin.inReplyTo || message.origin.forwardOf)
      ? { headers: { [DRAFT_ORIGIN_HEADER]: Buffer.from(JSON.stringify(message.origin)).toString('base64') } }
      : {}),
  });
  const mime = composer.compile();
  if (kind === 'draft') (mime as unknown as { keepBcc: boolean }).keepBcc = true;
  return { raw: await mime.build(), messageId: mime.messageId() };
}

/**
 * Sends as the signed-in user through submission (the sender-ownership rules of smtp-ingress
 * apply, as for any MUA), then files the very same bytes in \Sent (correo's submission does not file
 * a copy itself). The server's refusal reaches the user as its own sentence, never as a stack trace.
 */
export async function sendMessage(
  account: MailAccount,
  message: Composed,
  maxMessageBytes: number,
  logger: Logger,
): Promise<{ messageId: string }> {
  const recipients = [...message.to, ...message.cc, ...message.bcc];
  if (recipients.length === 0) throw new WebmailError(400, 'no_recipients', 'Add at least one recipient.');
  const { raw, messageId } = await buildMime(message, 'send');
  if (raw.length > maxMessageBytes) throw tooLarge(maxMessageBytes);

  const getSocket = submissionSocket(account.gateways, account.browser);
  const transport = nodemailer.createTransport({
    host: account.gateways.submission.host,
    port: account.gateways.submission.port,
    secure: false,
    requireTLS: true,
    tls: tlsOptions(account.gateways),
    auth: { user: account.address, pass: account.password },
    name: 'webmail',
    // With PROXY on, submission's per-IP limits and lockout see the browser too (gateways.ts).
    ...(getSocket ? { getSocket } : {}),
  });
  try {
    await transport.sendMail({ envelope: { from: message.from.address, to: recipients }, raw });
  } catch (error) {
    const failure = error as { responseCode?: number; response?: string; code?: string };
    if (failure.responseCode && failure.response) {
      throw new WebmailError(422, 'send_refused', `The mail server refused to send: ${failure.response}`);
    }
    logger.warn({ err: error }, 'webmail: submission failed');
    throw new WebmailError(
      503,
      'send_unavailable',
      'The message could not be sent: the mail server cannot be reached. Try again.',
    );
  } finally {
    transport.close();
  }

  // Sent: a failure to file the copy must not look like a failure to send (it was sent).
  const sent = await account.specialFolder('\\Sent');
  if (sent !== null) {
    await account.append(sent, raw, ['\\Seen']).catch((error: unknown) => {
      logger.warn({ err: error }, 'webmail: the copy in Sent could not be saved');
    });
  }
  return { messageId };
}

/**
 * Saves the draft in \Drafts (APPEND with \Draft) and then removes the version it replaces, so the
 * folder holds one copy of each draft; a crash in between leaves two versions, never none.
 */
export async function saveDraft(
  account: MailAccount,
  message: Composed,
  replaces: number | undefined,
  maxMessageBytes: number,
): Promise<{ folder: string; uid: number | null }> {
  const drafts = await account.specialFolder('\\Drafts');
  if (drafts === null)
    throw new WebmailError(409, 'no_drafts_folder', 'There is no Drafts folder to save to.');
  const { raw } = await buildMime(message, 'draft');
  if (raw.length > maxMessageBytes) throw tooLarge(maxMessageBytes);
  const uid = await account.append(drafts, raw, ['\\Draft', '\\Seen']);
  if (replaces !== undefined && replaces !== uid) await account.destroy(drafts, [replaces]);
  return { folder: drafts, uid };
}

/** The uploads named by id, in order; an unknown id is a 400 (removed, or from another session). */
export function takeAttachments(uploads: Uploads, ids: string[]): Composed['attachments'] {
  return ids.map((id) => {
    const upload = uploads.get(id);
    if (!upload) {
      throw new WebmailError(
        400,
        'attachment_not_found',
        'An attachment of this message is no longer here; attach it again.',
      );
    }
    return { filename: upload.filename, contentType: upload.contentType, content: upload.content };
  });
}

export function tooLarge(maxMessageBytes: number): WebmailError {
  return new WebmailError(
    413,
    'too_large',
    `This is larger than the ${formatLimit(maxMessageBytes)} the mail server accepts in one message.`,
  );
}

function formatLimit(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.floor(bytes / (1024 * 1024))} MB`;
  if (bytes >= 1024) return `${Math.floor(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}
