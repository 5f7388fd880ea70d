import { ParseError, parseSaslResponse, saslChallenge } from '@correo/imap-proto';
import type { AuthenticateRequest } from '@correo/imap-proto';
import type { CommandContext, Completion } from '../command-context.js';
import { bad, no } from '../command-context.js';
import { logIn } from '../login.js';

/** AUTHENTICATE PLAIN (RFC 4616), with the initial response on the command line (SASL-IR) or after "+". */
export async function authenticate(ctx: CommandContext, request: AuthenticateRequest): Promise<Completion> {
  if (request.mechanism !== 'PLAIN')
    return no(`Unsupported mechanism ${request.mechanism}`, { code: 'CANNOT' });
  if (!ctx.session.loginAllowed) {
    return no('Use STARTTLS (or port 993) before logging in', { code: 'PRIVACYREQUIRED' });
  }
  let response = request.initialResponse;
  if (response === null) {
    await ctx.io.write(saslChallenge(Buffer.alloc(0)));
    let answer: Buffer | 'cancel';
    try {
      answer = parseSaslResponse(await ctx.io.readLine());
    } catch (error) {
      if (error instanceof ParseError) return bad(error.message);
      throw error;
    }
    if (answer === 'cancel') return bad('Authentication cancelled');
    response = answer;
  }
  const [authzid, authcid, password, extra] = response.toString('utf8').split('\0');
  if (authcid === undefined || password === undefined || extra !== undefined) {
    return bad('Malformed PLAIN response: expected authzid NUL authcid NUL password');
  }
  if (authzid && authzid.toLowerCase() !== authcid.toLowerCase()) {
    return no('Acting as another user is not allowed', { code: 'AUTHORIZATIONFAILED' });
  }
  return logIn(ctx, authcid, password);
}
