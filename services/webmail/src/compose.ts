import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { Logger } from 'pino';
import { submissionSocket, tlsOptions } from './gateways.js';
import type { MailAccount } from './mail-account.js';
import { WebmailError } from './webmail-error.js';

export interface Draft {
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  text: string;
  /** The message answered: threading headers, and \Answered on it once sent. */
  inReplyTo?: { folder: string; uid: number; messageId: string | null; references: string[] };
}

/**
 * Sends as the signed-in user through submission (the sender-ownership rules of smtp-ingress
 * apply, as for any MUA), then files the very same bytes in \Sent. The server's refusal reaches the
 * user as its own sentence, never as a stack trace.
 */
export async function sendDraft(
  account: MailAccount,
  draft: Draft,
  logger: Logger,
): Promise<{ messageId: string }> {
  const recipients = [...draft.to, ...draft.cc, ...draft.bcc];
  if (recipients.length === 0) throw new WebmailError(400, 'no_recipients', 'Add at least one recipient.');
  const composer = new MailComposer({
    from: account.address,
    to: draft.to,
    cc: draft.cc,
    // Bcc stays out of the header (and so out of the \Sent copy's header too) but in the envelope.
    subject: draft.subject,
    text: draft.text,
    ...(draft.inReplyTo?.messageId
      ? {
          inReplyTo: draft.inReplyTo.messageId,
          references: [...draft.inReplyTo.references, draft.inReplyTo.messageId],
        }
      : {}),
  });
  const mime = composer.compile();
  const raw = await mime.build();
  const messageId = mime.messageId();

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
    await transport.sendMail({ envelope: { from: account.address, to: recipients }, raw });
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
  if (draft.inReplyTo) {
    await account.setFlags(draft.inReplyTo.folder, [draft.inReplyTo.uid], { answered: true }).catch(() => {});
  }
  return { messageId };
}
