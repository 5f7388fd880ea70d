import { idResponse } from '@correo/imap-proto';
import type { IdRequest } from '@correo/imap-proto';
import type { CommandContext, Completion } from '../command-context.js';
import { ok } from '../command-context.js';

/** RFC 2971: we say who we are; what the client says is only logged. */
export async function id(ctx: CommandContext, request: IdRequest): Promise<Completion> {
  if (request.params)
    ctx.services.logger.debug({ client: Object.fromEntries(request.params) }, 'IMAP client ID');
  await ctx.io.write(
    idResponse([
      ['name', 'correo'],
      ['vendor', 'correo'],
      ['support-url', 'https://github.com/correo'],
    ]),
  );
  return ok('ID completed');
}
