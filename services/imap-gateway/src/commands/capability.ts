import type { CapabilityRequest } from '@correo/imap-proto';
import type { CommandContext, Completion } from '../command-context.js';
import { ok } from '../command-context.js';

export async function capability(ctx: CommandContext, _request: CapabilityRequest): Promise<Completion> {
  await ctx.io.write(ctx.session.capabilityResponse());
  return ok('CAPABILITY completed');
}
