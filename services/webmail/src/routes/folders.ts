import type { FastifyInstance } from 'fastify';

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
          properties: { folder: { type: 'string', minLength: 1, maxLength: 1000 } },
        },
      },
    },
    async (request) => {
      await request.webmail.account.empty(request.body.folder);
      return { ok: true };
    },
  );
}
