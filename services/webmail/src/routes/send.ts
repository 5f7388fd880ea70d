import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Outgoing } from '../api-types.js';
import { saveDraft, sendMessage, takeAttachments, type Composed } from '../compose.js';
import { rememberRecipients } from '../correspondents.js';
import { openMessage } from '../open-message.js';
import { sessionUploads } from '../uploads.js';
import type { UserSettingsStore } from '../user-settings.js';
import { WebmailError } from '../webmail-error.js';

export interface ComposeContext {
  logger: Logger;
  /** The submission server's message size limit (its SIZE): uploads and messages above it are refused. */
  maxMessageBytes: number;
  /** Per-user settings and sender ownership; absent where the webmail has no database. */
  settings: UserSettingsStore | undefined;
  requireSession(request: FastifyRequest): Promise<void>;
}

const addressList = {
  type: 'array',
  maxItems: 100,
  items: { type: 'string', minLength: 3, maxLength: 320 },
} as const;

const messageRef = {
  type: 'object',
  required: ['folder', 'uid'],
  additionalProperties: false,
  properties: {
    folder: { type: 'string', minLength: 1, maxLength: 1000 },
    uid: { type: 'integer', minimum: 1, maximum: 4294967295 },
  },
} as const;

/** The compose form, for sending (`to` required) and for drafts (anything may still be missing). */
export const outgoingSchema = {
  type: 'object',
  required: ['to', 'subject', 'text'],
  additionalProperties: false,
  properties: {
    from: { type: 'string', minLength: 3, maxLength: 320 },
    to: addressList,
    cc: addressList,
    bcc: addressList,
    subject: { type: 'string', maxLength: 998 },
    text: { type: 'string', maxLength: 10 * 1024 * 1024 },
    html: { type: 'string', maxLength: 10 * 1024 * 1024 },
    attachments: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 64 } },
    inReplyTo: messageRef,
    forwardOf: messageRef,
    draftUid: { type: 'integer', minimum: 1, maximum: 4294967295 },
  },
} as const;

// What a person types in a To field; the submission server has the final word on each address.
const ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+$/;

export async function sendRoutes(app: FastifyInstance, context: ComposeContext) {
  app.post<{ Body: Outgoing }>('/api/send', { schema: { body: outgoingSchema } }, async (request) => {
    const { body } = request;
    const session = request.webmail;
    const composed = await compose(request, context);
    const sent = await sendMessage(session.account, composed, context.maxMessageBytes, context.logger);
    // After the send, nothing here may make it look failed: it went out.
    const account = session.account;
    const quietly = (what: string) => (error: unknown) =>
      context.logger.warn({ err: error }, `webmail: after sending, ${what} failed`);
    if (body.inReplyTo) {
      await account
        .setFlags(body.inReplyTo.folder, [body.inReplyTo.uid], { answered: true })
        .catch(quietly('setting \\Answered'));
    }
    if (body.forwardOf) {
      await account
        .setFlags(body.forwardOf.folder, [body.forwardOf.uid], { forwarded: true })
        .catch(quietly('setting $Forwarded'));
    }
    if (body.draftUid !== undefined) {
      const drafts = await account.specialFolder('\\Drafts').catch(() => null);
      if (drafts !== null)
        await account.destroy(drafts, [body.draftUid]).catch(quietly('deleting the draft'));
    }
    for (const id of body.attachments ?? []) session.uploads?.remove(id);
    delete session.lastMessage;
    rememberRecipients(session, [...composed.to, ...composed.cc, ...composed.bcc]);
    return { sent: true, messageId: sent.messageId };
  });

  // Autosave: the new version goes in first, then the one it replaces is deleted.
  app.post<{ Body: Outgoing }>('/api/drafts', { schema: { body: outgoingSchema } }, async (request) => {
    const composed = await compose(request, context);
    const saved = await saveDraft(
      request.webmail.account,
      composed,
      request.body.draftUid,
      context.maxMessageBytes,
    );
    delete request.webmail.lastMessage;
    return saved;
  });

  // Discard: the saved draft goes for good (it never was a message anyone received).
  app.delete<{ Params: { uid: number } }>(
    '/api/drafts/:uid',
    {
      schema: {
        params: {
          type: 'object',
          required: ['uid'],
          properties: { uid: { type: 'integer', minimum: 1, maximum: 4294967295 } },
        },
      },
    },
    async (request, reply) => {
      const account = request.webmail.account;
      const drafts = await account.specialFolder('\\Drafts');
      if (drafts === null) throw new WebmailError(404, 'no_drafts_folder', 'There is no Drafts folder.');
      await account.destroy(drafts, [request.params.uid]);
      delete request.webmail.lastMessage;
      return reply.status(204).send();
    },
  );
}

/**
 * The form checked and resolved: addresses well-formed, From one of the user's own addresses, the
 * uploads named, the answered message's threading headers.
 */
async function compose(
  request: FastifyRequest<{ Body: Outgoing }>,
  context: ComposeContext,
): Promise<Composed> {
  const { body } = request;
  const session = request.webmail;
  const account = session.account;
  const to = body.to.map((a) => a.trim());
  const cc = (body.cc ?? []).map((a) => a.trim());
  const bcc = (body.bcc ?? []).map((a) => a.trim());
  const invalid = [...to, ...cc, ...bcc].find((address) => !ADDRESS.test(address));
  if (invalid !== undefined) {
    throw new WebmailError(400, 'invalid_address', `"${invalid}" is not an email address.`);
  }
  const from = (body.from ?? account.address).trim();
  const own =
    from.toLowerCase() === account.address.toLowerCase() ||
    (context.settings !== undefined && (await context.settings.maySendAs(account.address, from)));
  if (!own) {
    throw new WebmailError(
      403,
      'not_your_address',
      `You cannot send as "${from}": it is not one of your addresses.`,
    );
  }
  const settings = context.settings ? await context.settings.get(account.address) : undefined;
  let threading: Composed['threading'];
  if (body.inReplyTo) {
    const { view } = await openMessage(session, body.inReplyTo.folder, body.inReplyTo.uid);
    if (view.messageId) threading = { messageId: view.messageId, references: view.references };
  }
  const origin = {
    ...(body.inReplyTo ? { inReplyTo: body.inReplyTo } : {}),
    ...(body.forwardOf ? { forwardOf: body.forwardOf } : {}),
  };
  return {
    from: { name: settings?.displayName ?? '', address: from },
    to,
    cc,
    bcc,
    subject: body.subject,
    text: body.text,
    html: body.html,
    attachments: takeAttachments(sessionUploads(session, context.maxMessageBytes), body.attachments ?? []),
    threading,
    origin,
  };
}
