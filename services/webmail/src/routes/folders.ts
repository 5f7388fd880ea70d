import type { FastifyInstance } from 'fastify';

const folderPath = { type: 'string', minLength: 1, maxLength: 1000 } as const;
// A name a person types: no control characters, and not the IMAP wildcards, which LIST would read as patterns.
const newFolderPath = {
  type: 'string',
  minLength: 1,
  maxLength: 200,
  pattern: '^[^\\u0000-\\u001f\\u007f*%]+$',
} as const;

/** A JSON body of exactly these fields, all required. */
function bodyOf(properties: Record<string, object>) {
  return {
    schema: {
      body: { type: 'object', required: Object.keys(properties), additionalProperties: false, properties },
    },
  };
}

/** The folder list with message and unread counts (one LIST-STATUS round trip) and special use. */
export async function folderRoutes(app: FastifyInstance) {
  app.get('/api/folders', async (request) => ({ folders: await request.webmail.account.folders() }));

  app.post<{ Body: { folder: string } }>(
    '/api/folders/empty',
    bodyOf({ folder: folderPath }),
    async (request) => {
      await request.webmail.account.empty(request.body.folder);
      return { ok: true };
    },
  );

  app.post<{ Body: { folder: string } }>(
    '/api/folders',
    bodyOf({ folder: newFolderPath }),
    async (request, reply) => {
      await request.webmail.account.createFolder(request.body.folder.trim());
      return reply.status(201).send({ ok: true });
    },
  );

  app.post<{ Body: { folder: string; to: string } }>(
    '/api/folders/rename',
    bodyOf({ folder: folderPath, to: newFolderPath }),
    async (request) => {
      await request.webmail.account.renameFolder(request.body.folder, request.body.to.trim());
      return { ok: true };
    },
  );

  app.post<{ Body: { folder: string } }>(
    '/api/folders/delete',
    bodyOf({ folder: folderPath }),
    async (request) => {
      await request.webmail.account.deleteFolder(request.body.folder);
      return { ok: true };
    },
  );
}
