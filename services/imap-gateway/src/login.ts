import { loginNameTooLong, MAX_LOGIN_NAME_BYTES, type LoginRefusal } from '@correo/auth';
import type { CommandContext, Completion } from './command-context.js';
import { no, ok } from './command-context.js';

const FAILED = 'Invalid credentials';

/**
 * What LOGIN and AUTHENTICATE share: TLS first (unless the loopback allowance), then the login
 * policy of every protocol (limiter, failure delay, metric, log), then the per-connection failure
 * budget. A locked-out login and a wrong password get the same answer after the same wait.
 */
export async function logIn(
  ctx: CommandContext,
  login: string,
  password: string,
  authorizationId = '',
): Promise<Completion> {
  const { session, services } = ctx;
  const refusal = loginRefusal(ctx);
  if (refusal) return refusal;
  if (loginNameTooLong(login)) {
    return refused(
      ctx,
      'login name too long',
      no(`Login names are limited to ${MAX_LOGIN_NAME_BYTES} octets`, { code: 'LIMIT' }),
    );
  }
  const attempt = { protocol: 'imap' as const, login, password, authorizationId, ip: session.remoteAddress };
  const outcome = await services.loginPolicy.attempt(services.directory, attempt);
  if (outcome.kind === 'rejected') return failed(ctx);
  if (outcome.kind === 'unauthorized') {
    return no('Acting as another user is not allowed', { code: 'AUTHORIZATIONFAILED' });
  }
  const sessionRefusal = await session.loggedIn(outcome.account);
  if (sessionRefusal) return sessionRefusal;
  return ok('Logged in', { code: 'CAPABILITY', capabilities: session.capabilities() });
}

/** Before any credentials are read: plaintext only over TLS (or the loopback allowance). */
export function loginRefusal(ctx: CommandContext): Completion | null {
  if (ctx.session.loginAllowed) return null;
  return refused(
    ctx,
    'no TLS',
    no('Use STARTTLS (or port 993) before logging in', { code: 'PRIVACYREQUIRED' }),
  );
}

/** A login refused before its credentials were looked at: counted and logged by the policy. */
export function refused(ctx: CommandContext, reason: LoginRefusal, completion: Completion): Completion {
  ctx.services.loginPolicy.refused('imap', ctx.session.remoteAddress, reason);
  return completion;
}

function failed(ctx: CommandContext): Completion {
  ctx.session.authFailures++;
  const completion = no(FAILED, { code: 'AUTHENTICATIONFAILED' });
  if (ctx.session.authFailures >= ctx.services.config.maxAuthFailures) {
    return { ...completion, text: `${FAILED}; too many failures, closing`, then: 'close' };
  }
  return completion;
}
