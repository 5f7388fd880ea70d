import type { FastifyInstance } from 'fastify';

/** The folder list with message and unread counts (one LIST-STATUS round trip) and special use. */
export async function folderRoutes(app: FastifyInstance) {
  app.get('/api/folders', async (request) => ({ folders: await request.webmail.account.folders() }));
}
