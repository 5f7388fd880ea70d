import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { autoconfigRoutes, type AutoconfigRouteOptions } from '@correo/autoconfig';
import type { ImageSenderList } from '@correo/store';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Gateways } from './gateways.js';
import { eventRoutes } from './routes/events.js';
import { folderRoutes } from './routes/folders.js';
import { messageRoutes } from './routes/messages.js';
import { composeRoutes } from './routes/compose.js';
import { rulesRoutes } from './routes/rules.js';
import { sendRoutes } from './routes/send.js';
import { settingsRoutes } from './routes/settings.js';
import { sessionRoutes } from './routes/session.js';
import { SessionStore, sameToken, type WebmailSession } from './sessions.js';
import type { UserSettingsStore } from './user-settings.js';
import { errorBody, webmailErrorHandler, WebmailError } from './webmail-error.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in session; set for every /api route but sign-in (requireSession). */
    webmail: WebmailSession;
  }
}

export interface WebmailOptions {
  gateways: Gateways;
  logger: Logger;
  sessionIdleMs: number;
  secureCookie: boolean;
  /** The origin browsers use, when a proxy rewrites Host; else the request's own. */
  publicOrigin?: string | undefined;
  /** The built front end (vite's output); default services/webmail/web/dist. */
  assetsDir?: string;
  /**
   * Client autoconfiguration (Thunderbird autoconfig, Outlook autodiscover, MTA-STS) on this host, for
   * the domains `isServedDomain` says are ours; left out where nothing can answer that.
   */
  autoconfig?: AutoconfigRouteOptions;
  /** The submission server's message size limit: attachment uploads and messages above it get a 413. */
  maxMessageBytes?: number;
  /** Per-user settings and sender ownership (needs the database); without it settings answer 503. */
  settings?: UserSettingsStore;
  /** Reverse proxies whose X-Forwarded-For names the browser (CIDRs); none: the socket's peer. */
  trustedProxies?: readonly string[];
  /** Our MX's authserv-id: the reading pane summarises only its Authentication-Results. */
  authservId?: string | undefined;
  /** "Always show images from this sender", per user; absent: images are allowed per message only. */
  imageSenders?: ImageSenderList;
}

/** What smtp-ingress accepts by default (SMTP_MAX_MESSAGE_BYTES). */
export const DEFAULT_MAX_MESSAGE_BYTES = 50 * 1024 * 1024;

export interface Webmail {
  app: FastifyInstance;
  sessions: SessionStore;
}

export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('../web/dist', import.meta.url));

// The page itself runs only its own script; message bodies come from /api/message/body under their own,
// stricter policy (sanitize-html.ts), inside a sandboxed frame.
const APP_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export async function buildWebmail(options: WebmailOptions): Promise<Webmail> {
  const sessions = new SessionStore(options.sessionIdleMs);
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: 30 * 1024 * 1024,
    // request.ip is the browser: the socket's peer, or X-Forwarded-For from a listed proxy only.
    trustProxy:
      options.trustedProxies && options.trustedProxies.length > 0 ? [...options.trustedProxies] : false,
    // The same ajv settings as admin-api: unknown fields refused, every bad field reported.
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
  }) as unknown as FastifyInstance;
  app.setErrorHandler(webmailErrorHandler(options.logger));
  app.setNotFoundHandler((request, reply) => {
    if (request.url.startsWith('/api/')) {
      return reply.status(404).send(errorBody('not_found', 'There is nothing here.'));
    }
    return sendIndex(reply, options);
  });
  await app.register(fastifyCookie);
  app.decorateRequest('webmail', undefined as unknown as WebmailSession);

  app.addHook('onSend', async (request, reply, payload) => {
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', APP_POLICY);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-opener-policy', 'same-origin');
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    return payload;
  });

  // Every state change: from our own origin (the browser says so in Origin) and, once signed in,
  // with the session's CSRF token in a header a cross-site form or image cannot set. The cookie's
  // SameSite=Strict is a third layer: a cross-site request carries no session at all.
  app.addHook('preHandler', async (request) => {
    // Autodiscover's POST comes from mail clients, not pages: no Origin, no session, nothing changed.
    if (request.method === 'GET' || request.method === 'HEAD' || !request.url.startsWith('/api/')) return;
    const expected = options.publicOrigin ?? `${request.protocol}://${request.headers.host ?? ''}`;
    if (request.headers.origin !== expected) {
      throw new WebmailError(
        403,
        'cross_site',
        'This request did not come from the webmail page; nothing was changed.',
      );
    }
  });

  const context = { sessions, options, cookieName: cookieName(options.secureCookie) };
  const requireSession = async (request: FastifyRequest) => {
    const session = sessions.touch(request.cookies[context.cookieName]);
    if (!session)
      throw new WebmailError(
        401,
        'signed_out',
        'You are not signed in, or your session has ended. Sign in again.',
      );
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const token = request.headers['x-csrf-token'];
      if (!sameToken(typeof token === 'string' ? token : undefined, session.csrfToken)) {
        throw new WebmailError(
          403,
          'csrf',
          'This request is missing its security token; reload the page and try again.',
        );
      }
    }
    request.webmail = session;
  };

  await app.register(sessionRoutes, { ...context, requireSession });
  await app.register(async (scope) => {
    scope.addHook('preHandler', requireSession);
    await scope.register(folderRoutes);
    await scope.register(messageRoutes, {
      authservId: options.authservId,
      imageSenders: options.imageSenders,
    });
    const compose = {
      logger: options.logger,
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      settings: options.settings,
      requireSession,
    };
    await scope.register(sendRoutes, compose);
    await scope.register(composeRoutes, compose);
    await scope.register(settingsRoutes, {
      settings: options.settings,
      clientSettings: options.autoconfig?.settings,
    });
    await scope.register(rulesRoutes);
    await scope.register(eventRoutes);
  });

  if (options.autoconfig) await app.register(autoconfigRoutes, options.autoconfig);

  const assetsDir = options.assetsDir ?? DEFAULT_ASSETS_DIR;
  if (existsSync(assetsDir)) {
    await app.register(fastifyStatic, { root: assetsDir, index: ['index.html'], wildcard: false });
  }
  app.addHook('onClose', () => sessions.closeAll());
  return { app, sessions };
}

function sendIndex(reply: FastifyReply, options: WebmailOptions) {
  const assetsDir = options.assetsDir ?? DEFAULT_ASSETS_DIR;
  if (!existsSync(`${assetsDir}/index.html`)) {
    return reply
      .status(503)
      .type('text/plain; charset=utf-8')
      .send(
        'The webmail front end is not built yet: run `make dev` (or `npm run build -w @correo/webmail`).',
      );
  }
  return reply.type('text/html; charset=utf-8').sendFile('index.html', assetsDir);
}

/** `__Host-` binds the cookie to this exact origin over HTTPS; browsers refuse that prefix without Secure. */
export function cookieName(secure: boolean): string {
  return secure ? '__Host-correo-webmail' : 'correo-webmail';
}
