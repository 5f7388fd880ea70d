import { untaggedStatus } from '@correo/imap-proto';
import type { LogoutRequest } from '@correo/imap-proto';
import type { CommandContext, Completion } from '../command-context.js';

export async function logout(ctx: CommandContext, _request: LogoutRequest): Promise<Completion> {
  await ctx.io.write(untaggedStatus('BYE', 'Logging out'));
  ctx.session.logout();
  return { status: 'OK', text: 'LOGOUT completed', then: 'close' };
}
