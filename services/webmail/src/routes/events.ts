import type { FastifyInstance } from 'fastify';
import type { MailboxChange } from '../mail-account.js';

const HEARTBEAT_MS = 20_000;

/**
 * The one open stream of each session: a new one (a reload, a second tab) ends the one before, so a
 * client cannot pile up streams, each holding a connection and a listener on the IMAP session.
 */
const openStreams = new WeakMap<object, () => void>();

/**
 * Live updates as Server-Sent Events: the session's IMAP connection IDLEs on the open folder, and
 * what the server announces (EXISTS, EXPUNGE, FETCH FLAGS) is passed on, so a new mail shows without
 * a reload. When the session ends (sign-out, idle expiry, dropped connection) the stream says so.
 */
export async function eventRoutes(app: FastifyInstance) {
  app.get('/api/events', async (request, reply) => {
    const account = request.webmail.account;
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    out.write('retry: 2000\n\n');
    const onChange = (change: MailboxChange) =>
      out.write(`event: change\ndata: ${JSON.stringify(change)}\n\n`);
    const onClosed = () => {
      out.write('event: signed-out\ndata: {}\n\n');
      out.end();
    };
    const heartbeat = setInterval(() => out.write(': keep-alive\n\n'), HEARTBEAT_MS);
    account.on('change', onChange);
    account.once('closed', onClosed);
    const replaced = () => {
      out.write('event: replaced\ndata: {}\n\n');
      out.end();
    };
    openStreams.get(account)?.();
    openStreams.set(account, replaced);
    request.raw.once('close', () => {
      clearInterval(heartbeat);
      account.off('change', onChange);
      account.off('closed', onClosed);
      if (openStreams.get(account) === replaced) openStreams.delete(account);
    });
  });
}
