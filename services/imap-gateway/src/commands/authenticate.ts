import { startSasl } from '@correo/auth';
import { saslChallenge } from '@correo/imap-proto';
import type { AuthenticateRequest } from '@correo/imap-proto';
import type { CommandContext, Completion } from '../command-context.js';
import { bad, no } from '../command-context.js';
import { logIn, loginRefusal, refused } from '../login.js';

/** AUTHENTICATE (RFC 9051 6.2.2) with the SASL-IR initial response (RFC 4959); SASL is @correo/auth's. */
export async function authenticate(ctx: CommandContext, request: AuthenticateRequest): Promise<Completion> {
  const started = startSasl(request.mechanism, request.initialResponse ?? undefined);
  if (!started) {
    return refused(
      ctx,
      'unsupported mechanism',
      no(`Unsupported mechanism ${request.mechanism}`, { code: 'CANNOT' }),
    );
  }
  const refusal = loginRefusal(ctx);
  if (refusal) return refusal;
  let step = started.step;
  while (step.kind === 'challenge') {
    await ctx.io.write(saslChallenge(step.challenge));
    step = started.exchange.respond((await ctx.io.readLine()).toString('latin1'));
  }
  if (step.kind === 'cancelled') return bad('Authentication cancelled');
  if (step.kind === 'malformed') return refused(ctx, 'malformed SASL', bad(step.reason));
  const { login, password, authorizationId } = step.credentials;
  return logIn(ctx, login, password, authorizationId);
}
