import type { CheckRequest, NoopRequest } from '@correo/imap-proto';
import type { CommandContext, Completion } from '../command-context.js';
import { ok } from '../command-context.js';

/** NOOP and CHECK: the way a client polls; the selected mailbox is re-read even without a notification. */
export async function noop(ctx: CommandContext, request: NoopRequest | CheckRequest): Promise<Completion> {
  if (ctx.session.state === 'selected') ctx.session.dirty = true;
  return ok(`${request.command} completed`);
}
