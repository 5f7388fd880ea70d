import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { simpleParser, type AddressObject } from 'mailparser';
import type { OpenedDraft, UploadedAttachment } from '../api-types.js';
import { DRAFT_ORIGIN_HEADER, tooLarge } from '../compose.js';
import { suggestAddresses } from '../correspondents.js';
import { openMessage } from '../open-message.js';
import { sanitizeOutgoingHtml } from '../sanitize-html.js';
import { sessionUploads } from '../uploads.js';
import { errorBody, WebmailError } from '../webmail-error.js';
import type { ComposeContext } from './send.js';

const folder = { type: 'string', minLength: 1, maxLength: 1000 } as const;
const uid = { type: 'integer', minimum: 1, maximum: 4294967295 } as const;

/** Attachments, drafts reopened, address autocomplete and the From choices of the compose form. */
export async function composeRoutes(app: FastifyInstance, context: ComposeContext) {
  const { maxMessageBytes } = context;
  // An upload is the file's bytes as the body; its name and type ride in the query string.
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );

  app.post<{ Querystring: { filename: string; type?: string }; Body: Buffer }>(
    '/api/attachments',
    {
      bodyLimit: maxMessageBytes,
      // Checked before the body is read, so nobody signed out can make the server buffer an upload.
      onRequest: context.requireSession,
      errorHandler: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
        if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
          const refusal = tooLarge(maxMessageBytes);
          return reply.status(413).send(errorBody(refusal.code, refusal.message));
        }
        throw error;
      },
      schema: {
        querystring: {
          type: 'object',
          required: ['filename'],
          properties: {
            filename: { type: 'string', minLength: 1, maxLength: 255 },
            type: { type: 'string', maxLength: 255, pattern: '^[\\w.+-]+/[\\w.+-]+$' },
          },
        },
      },
    },
    async (request, reply) => {
      if (!Buffer.isBuffer(request.body)) {
        throw new WebmailError(415, 'not_a_file', 'Send the file itself as application/octet-stream.');
      }
      const uploads = sessionUploads(request.webmail, maxMessageBytes);
      const added = uploads.add(
        safeFilename(request.query.filename),
        request.query.type ?? 'application/octet-stream',
        request.body,
      );
      return reply.status(201).send(added);
    },
  );

  app.delete<{ Params: { id: string } }>('/api/attachments/:id', async (request, reply) => {
    if (!request.webmail.uploads?.remove(request.params.id)) {
      throw new WebmailError(404, 'attachment_not_found', 'This attachment is not here any more.');
    }
    return reply.status(204).send();
  });

  // Forwarding "with attachments": the original's files become uploads the form shows and can drop.
  app.post<{ Body: { folder: string; uid: number } }>(
    '/api/attachments/from-message',
    {
      schema: {
        body: {
          type: 'object',
          required: ['folder', 'uid'],
          additionalProperties: false,
          properties: { folder, uid },
        },
      },
    },
    async (request) => {
      const { parsed } = await openMessage(request.webmail, request.body.folder, request.body.uid);
      const uploads = sessionUploads(request.webmail, maxMessageBytes);
      const attachments = parsed.attachments
        .filter((attachment) => !attachment.related)
        .map((attachment, index) =>
          uploads.add(
            safeFilename(attachment.filename ?? `attachment-${index + 1}`),
            attachment.contentType,
            attachment.content,
          ),
        );
      return { attachments };
    },
  );

  // A draft back in the compose form: its fields, its origin, its attachments as new uploads.
  app.get<{ Querystring: { uid: number } }>(
    '/api/drafts/open',
    { schema: { querystring: { type: 'object', required: ['uid'], properties: { uid } } } },
    async (request): Promise<OpenedDraft> => {
      const account = request.webmail.account;
      const drafts = await account.specialFolder('\\Drafts');
      if (drafts === null) throw new WebmailError(404, 'no_drafts_folder', 'There is no Drafts folder.');
      const { source } = await account.source(drafts, request.query.uid);
      if (source.length > maxMessageBytes) throw tooLarge(maxMessageBytes);
      const parsed = await simpleParser(source, { skipTextToHtml: true, skipImageLinks: true });
      const uploads = sessionUploads(request.webmail, maxMessageBytes);
      const attachmentList: UploadedAttachment[] = parsed.attachments.map((attachment, index) =>
        uploads.add(
          safeFilename(attachment.filename ?? `attachment-${index + 1}`),
          attachment.contentType,
          attachment.content,
        ),
      );
      const origin = draftOrigin(parsed.headers.get(DRAFT_ORIGIN_HEADER));
      const from = addresses(parsed.from)[0];
      return {
        ...(from ? { from } : {}),
        to: addresses(parsed.to),
        cc: addresses(parsed.cc),
        bcc: addresses(parsed.bcc),
        subject: parsed.subject ?? '',
        text: parsed.text ?? '',
        // Anything can be APPENDed to Drafts: the editor gets only what it could have made itself.
        ...(typeof parsed.html === 'string' && parsed.html !== ''
          ? { html: sanitizeOutgoingHtml(parsed.html) }
          : {}),
        attachments: attachmentList.map((a) => a.id),
        attachmentList,
        ...origin,
        draftUid: request.query.uid,
      };
    },
  );

  app.get<{ Querystring: { q: string } }>(
    '/api/contacts',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['q'],
          properties: { q: { type: 'string', minLength: 1, maxLength: 100 } },
        },
      },
    },
    async (request) => ({ contacts: await suggestAddresses(request.webmail, request.query.q) }),
  );

  // The addresses the From field offers (routes/send.ts checks whatever comes back with the directory).
  app.get('/api/identities', async (request) => {
    const address = request.webmail.account.address;
    if (!context.settings) return { addresses: [address], displayName: '' };
    const [addresses, settings] = await Promise.all([
      context.settings.identities(address),
      context.settings.get(address),
    ]);
    return { addresses, displayName: settings.displayName };
  });
}

/** A name for the attachment header: no path, no control characters. */
function safeFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return clean.slice(0, 255) || 'attachment';
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  if (value === undefined) return [];
  return [value]
    .flat()
    .flatMap((object) => object.value.flatMap((entry) => (entry.address ? [entry.address] : [])));
}

/** The origin a draft was saved with; anything that does not parse is ignored (it is only a hint). */
function draftOrigin(header: unknown): Pick<OpenedDraft, 'inReplyTo' | 'forwardOf'> {
  if (typeof header !== 'string') return {};
  try {
    const value = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as Record<string, unknown>;
    const ref = (candidate: unknown) => {
      const r = candidate as { folder?: unknown; uid?: unknown } | undefined;
      return r && typeof r.folder === 'string' && Number.isSafeInteger(r.uid) && (r.uid as number) > 0
        ? { folder: r.folder, uid: r.uid as number }
        : undefined;
    };
    const inReplyTo = ref(value.inReplyTo);
    const forwardOf = ref(value.forwardOf);
    return { ...(inReplyTo ? { inReplyTo } : {}), ...(forwardOf ? { forwardOf } : {}) };
  } catch {
    return {};
  }
}
