import type { StartTlsRequest } from '@correo/imap-proto';
import type { CommandContext, Completion } from '../command-context.js';
import { bad } from '../command-context.js';

export async function starttls(ctx: CommandContext, _request: StartTlsRequest): Promise<Completion> {
  if (ctx.session.tlsActive) return bad('TLS is already active');
  return { status: 'OK', text: 'Begin TLS negotiation now', then: 'starttls' };
}
