import { guardedLogin, loginNameTooLong, MAX_LOGIN_NAME_BYTES } from '@correo/auth';
import type { CommandContext, Completion } from './command-context.js';
import { no, ok } from './command-context.js';
import { imapMetrics } from './metrics.js';

const FAILED = 'Invalid credentials';

/**
 * The checks LOGIN and AUTHENTICATE share: TLS first (unless the loopback allowance), the shared
 * failed-login limiter (delay, then lockout), the directory, and the per-connection failure budget.
 * Every failure gets the same answer, so the reply never tells which part was wrong.
 */
export async function logIn(ctx: CommandContext, login: string, password: string): Promise<Completion> {
  const { session, services } = ctx;
  if (!session.loginAllowed) {
    imapMetrics.logins.inc({ result: 'refused' });
    return no('Use STARTTLS (or port 993) before logging in', { code: 'PRIVACYREQUIRED' });
  }
  if (loginNameTooLong(login)) {
    imapMetrics.logins.inc({ result: 'refused' });
    return no(`Login names are limited to ${MAX_LOGIN_NAME_BYTES} octets`, { code: 'LIMIT' });
  }
  const outcome = await guardedLogin(
    services.loginLimiter,
    services.directory,
    login,
    password,
    session.remoteAddress,
  );
  if (outcome.kind !== 'ok') {
    imapMetrics.logins.inc({ result: outcome.kind });
    return failed(ctx);
  }
  const refused = await session.loggedIn(outcome.account);
  if (refused) {
    imapMetrics.logins.inc({ result: 'refused' });
    return refused;
  }
  imapMetrics.logins.inc({ result: 'ok' });
  return ok('Logged in', { code: 'CAPABILITY', capabilities: session.capabilities() });
}

function failed(ctx: CommandContext): Completion {
  ctx.session.authFailures++;
  const completion = no(FAILED, { code: 'AUTHENTICATIONFAILED' });
  if (ctx.session.authFailures >= ctx.services.config.maxAuthFailures) {
    return { ...completion, text: `${FAILED}; too many failures, closing`, then: 'close' };
  }
  return completion;
}
