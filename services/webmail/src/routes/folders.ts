import type { FastifyInstance } from 'fastify';

const folderPath = { type: 'string', minLength: 1, maxLength: 1000 } as const;
// A name a person types: no control characters, and not the IMAP wildcards, which LIST would read as patterns.
const newFolderPath = {
  type: 'string',
  minLength: 1,
  maxLength: 200,
  pattern: '^[^\\u0000-\\u001f\\u007f*%]+$',
} as const;

/** The folder list with message and unread counts (one LIST-STATUS round trip) and special use. */
export async function folderRoutes(app: FastifyInstance) {
  app.get('/api/folders', async (request) => ({ folders: await request.webmail.account.folders() }));

  app.post<{ Body: { folder: string } }>(
    '/api/folders/empty',
    {
      schema: {
        body: {
          type: 'object',
          required: ['folder'],
          additionalProperties: false,
          properties: { folder: folderPath },
        },
      },
    },
    async (request) => {
      await request.webmail.account.empty(request.body.folder);
      return { ok: true };
    },
  );

  app.post<{ Body: { folder: string } }>(
    '/api/folders',
    {
      schema: {
        body: {
          type: 'object',
          required: ['folder'],
          additionalProperties: false,
          properties: { folder: newFolderPath },
        },
      },
    },
    async (request, reply) => {
      await request.webmail.account.createFolder(request.body.folder.trim());
      return reply.status(201).send({ ok: true });
    },
  );

  app.post<{ Body: { folder: string; to: string } }>(
    '/api/folders/rename',
    {
      schema: {
        body: {
          type: 'object',
          required: ['folder', 'to'],
          additionalProperties: false,
          properties: { folder: folderPath, to: newFolderPath },
        },
      },
    },
    async (request) => {
      await request.webmail.account.renameFolder(request.body.folder, request.body.to.trim());
      return { ok: true };
    },
  );

  app.post<{ Body: { folder: string } }>(
    '/api/folders/delete',
    {
      schema: {
        body: {
          type: 'object',
          required: ['folder'],
          additionalProperties: false,
          properties: { folder: folderPath },
        },
      },
    },
    async (request) => {
      await request.webmail.account.deleteFolder(request.body.folder);
      return { ok: true };
    },
  );
}
