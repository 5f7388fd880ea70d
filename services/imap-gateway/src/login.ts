import { setTimeout as sleep } from 'node:timers/promises';
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
  const ip = session.remoteAddress;
  const verdict = await services.loginLimiter.checkAllowed(login, ip);
  if (verdict.kind === 'locked') {
    imapMetrics.logins.inc({ result: 'locked' });
    return failed(ctx);
  }
  if (verdict.delayMs > 0) await sleep(verdict.delayMs);
  const account = await services.directory.authenticate(login, password);
  if (!account) {
    await services.loginLimiter.recordFailure(login, ip);
    imapMetrics.logins.inc({ result: 'failed' });
    return failed(ctx);
  }
  await services.loginLimiter.recordSuccess(login, ip);
  const refused = await session.loggedIn(account);
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
