import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebmailOptions } from '../app.js';
import { MailAccount } from '../mail-account.js';
import type { SessionStore } from '../sessions.js';
import { WebmailError } from '../webmail-error.js';

interface SessionContext {
  sessions: SessionStore;
  options: WebmailOptions;
  cookieName: string;
  requireSession(request: FastifyRequest): Promise<void>;
}

const signInBody = {
  type: 'object',
  required: ['address', 'password'],
  additionalProperties: false,
  properties: {
    address: { type: 'string', minLength: 1, maxLength: 320 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
} as const;

const FAILED =
  'That address and password did not work. Check them and try again; after several failures sign-in is paused for a while.';

/** Sign-in is an IMAP login: the gateway's login policy (delays, lockout) decides, not the webmail. */
export async function sessionRoutes(app: FastifyInstance, context: SessionContext) {
  const { sessions, options, cookieName } = context;

  app.post<{ Body: { address: string; password: string } }>(
    '/api/session',
    { schema: { body: signInBody } },
    async (request, reply) => {
      const { address, password } = request.body;
      // The browser's address (the socket's peer, or what a trusted proxy says: WEBMAIL_TRUSTED_PROXIES)
      // goes on to the gateways in a PROXY header, so their per-IP caps and lockout count browsers.
      const browser = { address: request.ip, port: request.socket.remotePort ?? 0 };
      const account = await MailAccount.signIn(
        options.gateways,
        address.trim(),
        password,
        options.logger,
        browser,
      );
      if (!account) throw new WebmailError(401, 'login_failed', FAILED);
      const session = sessions.create(account);
      reply.setCookie(cookieName, session.id, {
        path: '/',
        httpOnly: true,
        secure: options.secureCookie,
        sameSite: 'strict',
      });
      return { address: account.address, csrfToken: session.csrfToken };
    },
  );

  app.get('/api/session', { preHandler: context.requireSession }, async (request) => ({
    address: request.webmail.account.address,
    csrfToken: request.webmail.csrfToken,
  }));

  // Sign-out ends the IMAP session too (LOGOUT), not only the cookie.
  app.delete('/api/session', { preHandler: context.requireSession }, async (request, reply) => {
    await sessions.end(request.webmail);
    reply.clearCookie(cookieName, {
      path: '/',
      httpOnly: true,
      secure: options.secureCookie,
      sameSite: 'strict',
    });
    return reply.status(204).send();
  });
}
