import type { CompressRequest } from '@correo/imap-proto';
import type { AuthenticatedContext, Completion } from '../command-context.js';
import { bad, no } from '../command-context.js';

/**
 * COMPRESS DEFLATE (RFC 4978): the tagged OK goes out as it is, then the connection puts its deflate
 * layer in both directions (ImapConnection, through the line server's addLayer). Once only.
 */
export async function compress(ctx: AuthenticatedContext, request: CompressRequest): Promise<Completion> {
  if (request.mechanism !== 'DEFLATE') return bad(`Unknown compression mechanism ${request.mechanism}`);
  if (ctx.session.compressionActive) return no('DEFLATE is active already', { code: 'COMPRESSIONACTIVE' });
  return { status: 'OK', text: 'DEFLATE active', then: 'compress' };
}
