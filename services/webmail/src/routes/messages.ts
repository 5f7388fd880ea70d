import type { ImageSenderList } from '@correo/store';
import type { FastifyInstance } from 'fastify';
import type { MessageHeaders, OpenedMessage } from '../api-types.js';
import { authenticationSummary } from '../authentication-results.js';
import type { FlagName, SortKey } from '../mail-account.js';
import { openMessage } from '../open-message.js';
import type { ParsedMessage } from '../message-view.js';
import { messageBodyPolicy, sanitizeHtml, type SanitizedHtml } from '../sanitize-html.js';
import { WebmailError } from '../webmail-error.js';

const folder = { type: 'string', minLength: 1, maxLength: 1000 } as const;
const uid = { type: 'integer', minimum: 1, maximum: 4294967295 } as const;
const uids = { type: 'array', minItems: 1, maxItems: 1000, items: uid } as const;

const listQuery = {
  type: 'object',
  required: ['folder'],
  properties: {
    folder,
    page: { type: 'integer', minimum: 1, default: 1 },
    pageSize: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    sort: { type: 'string', enum: ['date', 'arrival', 'from', 'subject', 'size'], default: 'date' },
    order: { type: 'string', enum: ['asc', 'desc'], default: 'desc' },
    q: { type: 'string', maxLength: 200 },
    threads: { type: 'boolean', default: false },
  },
} as const;

const messageQuery = { type: 'object', required: ['folder', 'uid'], properties: { folder, uid } } as const;

interface ListQuery {
  folder: string;
  page: number;
  pageSize: number;
  sort: SortKey;
  order: 'asc' | 'desc';
  q?: string;
  threads: boolean;
}

export interface MessageRouteOptions {
  /** Our MX's authserv-id: only its Authentication-Results are summarised. */
  authservId?: string | undefined;
  /** Where "always show images from this sender" is kept; absent: only "this message" is offered. */
  imageSenders?: ImageSenderList | undefined;
}

export async function messageRoutes(app: FastifyInstance, options: MessageRouteOptions) {
  app.get<{ Querystring: ListQuery }>(
    '/api/messages',
    { schema: { querystring: listQuery } },
    async (request) => {
      const { q, order, threads, ...rest } = request.query;
      const query = q?.trim();
      return request.webmail.account.list({
        ...rest,
        descending: order === 'desc',
        threaded: threads,
        ...(query ? { query } : {}),
      });
    },
  );

  app.get<{ Querystring: { folder: string; uid: number } }>(
    '/api/message',
    { schema: { querystring: messageQuery } },
    async (request) => {
      const message = await openMessage(request.webmail, request.query.folder, request.query.uid);
      const authentication = authenticationSummary(message.parsed.headerLines, options.authservId);
      const sender = message.view.sender;
      // A From our MX saw fail DMARC is forged or broken: a tracker cannot borrow an allowed sender's name.
      const imagesAllowed =
        options.imageSenders !== undefined &&
        sender !== '' &&
        authentication?.dmarc !== 'fail' &&
        (await options.imageSenders
          .isAllowed(request.webmail.account.address, sender)
          .catch((error: unknown) => {
            // The list is a convenience: without the database the message still opens, images blocked.
            request.log.warn({ err: error }, 'webmail: the image sender list could not be read');
            return false;
          }));
      // How many remote images the "show images" bar offers; the body is then served from this work.
      const opened: OpenedMessage = {
        ...message.view,
        remoteImages: safeBody(message, false).remoteImages,
        imagesAllowed,
        senderListAvailable: options.imageSenders !== undefined,
        authentication,
      };
      return opened;
    },
  );

  // Every header field as it came (unfolded), for "show headers".
  app.get<{ Querystring: { folder: string; uid: number } }>(
    '/api/message/headers',
    { schema: { querystring: messageQuery } },
    async (request): Promise<MessageHeaders> => {
      const { parsed } = await openMessage(request.webmail, request.query.folder, request.query.uid);
      return {
        headers: parsed.headerLines.map(({ line }) => {
          const colon = line.indexOf(':');
          return {
            name: colon < 0 ? line : line.slice(0, colon),
            value:
              colon < 0
                ? ''
                : line
                    .slice(colon + 1)
                    .replace(/\r?\n[ \t]+/g, ' ')
                    .trim(),
          };
        }),
      };
    },
  );

  // "Always show images from this sender": kept per user on the server (libs/store, migration 0250).
  app.post<{ Body: { sender: string; allow: boolean } }>(
    '/api/image-senders',
    {
      schema: {
        body: {
          type: 'object',
          required: ['sender', 'allow'],
          additionalProperties: false,
          properties: {
            sender: { type: 'string', minLength: 3, maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$' },
            allow: { type: 'boolean' },
          },
        },
      },
    },
    async (request) => {
      const list = options.imageSenders;
      if (!list) {
        throw new WebmailError(
          501,
          'not_available',
          'This webmail cannot remember senders; allow images per message.',
        );
      }
      const { address } = request.webmail.account;
      if (!request.body.allow) {
        await list.forget(address, request.body.sender);
        return { ok: true };
      }
      if (!(await list.allow(address, request.body.sender))) {
        throw new WebmailError(
          422,
          'too_many_senders',
          'You have allowed images from as many senders as you can.',
        );
      }
      return { ok: true };
    },
  );

  // The HTML body, sanitised, as its own document: the reading pane frames it with sandbox="" and this
  // response's CSP forbids every script and, unless images=1, every remote request.
  app.get<{ Querystring: { folder: string; uid: number; images?: boolean } }>(
    '/api/message/body',
    {
      schema: {
        querystring: {
          ...messageQuery,
          properties: { ...messageQuery.properties, images: { type: 'boolean' } },
        },
      },
    },
    async (request, reply) => {
      const message = await openMessage(request.webmail, request.query.folder, request.query.uid);
      const allowRemoteImages = request.query.images === true;
      const clean = safeBody(message, allowRemoteImages);
      reply.header('content-security-policy', messageBodyPolicy(allowRemoteImages));
      reply.header('x-remote-images', String(clean.remoteImages));
      reply.header('cross-origin-resource-policy', 'same-origin');
      return reply.type('text/html; charset=utf-8').send(bodyDocument(clean.html));
    },
  );

  // The message as the server keeps it (headers and all), to save or to look at.
  app.get<{ Querystring: { folder: string; uid: number } }>(
    '/api/message/source',
    { schema: { querystring: messageQuery } },
    async (request, reply) => {
      const { source } = await request.webmail.account.source(request.query.folder, request.query.uid);
      return reply
        .type('application/octet-stream')
        .header('content-disposition', `attachment; filename="message-${request.query.uid}.eml"`)
        .header('content-security-policy', "default-src 'none'; sandbox")
        .send(source);
    },
  );

  app.get<{ Querystring: { folder: string; uid: number; index: number } }>(
    '/api/message/attachment',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['folder', 'uid', 'index'],
          properties: { folder, uid, index: { type: 'integer', minimum: 0, maximum: 10000 } },
        },
      },
    },
    async (request, reply) => {
      const { parsed } = await openMessage(request.webmail, request.query.folder, request.query.uid);
      const attachment = parsed.attachments[request.query.index];
      if (!attachment) throw new WebmailError(404, 'attachment_not_found', 'This attachment does not exist.');
      const filename = attachment.filename ?? `attachment-${request.query.index + 1}`;
      // Always a download, never rendered in our origin: an attached .html would otherwise run as us.
      return reply
        .type('application/octet-stream')
        .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`)
        .header('content-security-policy', "default-src 'none'; sandbox")
        .send(attachment.content);
    },
  );

  app.post<{
    Body: { folder: string; uids: number[]; seen?: boolean; flagged?: boolean; answered?: boolean };
  }>(
    '/api/messages/flags',
    {
      schema: {
        body: {
          type: 'object',
          required: ['folder', 'uids'],
          additionalProperties: false,
          properties: {
            folder,
            uids,
            seen: { type: 'boolean' },
            flagged: { type: 'boolean' },
            answered: { type: 'boolean' },
          },
        },
      },
    },
    async (request) => {
      const { folder: path, uids: selected, ...changes } = request.body;
      await request.webmail.account.setFlags(path, selected, changes as Partial<Record<FlagName, boolean>>);
      forget(request.webmail, path);
      return { ok: true };
    },
  );

  app.post<{ Body: { folder: string; uids: number[]; to: string } }>(
    '/api/messages/move',
    {
      schema: {
        body: {
          type: 'object',
          required: ['folder', 'uids', 'to'],
          additionalProperties: false,
          properties: { folder, uids, to: folder },
        },
      },
    },
    async (request) => {
      await request.webmail.account.move(request.body.folder, request.body.uids, request.body.to);
      forget(request.webmail, request.body.folder);
      return { ok: true };
    },
  );

  app.post<{ Body: { folder: string; uids: number[] } }>(
    '/api/messages/delete',
    {
      schema: {
        body: {
          type: 'object',
          required: ['folder', 'uids'],
          additionalProperties: false,
          properties: { folder, uids },
        },
      },
    },
    async (request) => {
      await request.webmail.account.remove(request.body.folder, request.body.uids);
      forget(request.webmail, request.body.folder);
      return { ok: true };
    },
  );
}

/** The sanitised body; the blocked-images version is kept with the open message (asked for twice). */
function safeBody(message: ParsedMessage, allowRemoteImages: boolean): SanitizedHtml {
  if (!allowRemoteImages && message.safeHtml) return message.safeHtml;
  const html = typeof message.parsed.html === 'string' ? message.parsed.html : '';
  const clean = sanitizeHtml(html, { allowRemoteImages });
  if (!allowRemoteImages) message.safeHtml = clean;
  return clean;
}

/** Flags shown in the reading pane come from the cached open; a change in that folder drops it. */
function forget(session: { lastMessage?: { key: string } }, path: string) {
  if (session.lastMessage?.key.startsWith(`${path}\u0000`)) delete session.lastMessage;
}

function bodyDocument(html: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><style>
body{font:15px/1.5 system-ui,sans-serif;color:#1b1b1f;margin:16px;overflow-wrap:anywhere}
img{max-width:100%;height:auto}table{max-width:100%}pre{white-space:pre-wrap}
</style></head><body>${html}</body></html>`;
}
