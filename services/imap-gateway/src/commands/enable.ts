import { enabledResponse } from '@correo/imap-proto';
import type { EnableRequest } from '@correo/imap-proto';
import { ENABLEABLE } from '../capabilities.js';
import type { AuthenticatedContext, Completion } from '../command-context.js';
import { ok } from '../command-context.js';

/** RFC 5161: answers only the extensions this ENABLE newly turned on; unknown names are ignored. */
export async function enable(ctx: AuthenticatedContext, request: EnableRequest): Promise<Completion> {
  const turnedOn: string[] = [];
  for (const name of request.capabilities) {
    const upper = name.toUpperCase();
    if (!(ENABLEABLE as readonly string[]).includes(upper) || ctx.session.enabled.has(upper)) continue;
    ctx.session.enabled.add(upper);
    turnedOn.push(upper === 'IMAP4REV2' ? 'IMAP4rev2' : upper);
  }
  if (ctx.session.enabled.has('QRESYNC')) ctx.session.enabled.add('CONDSTORE');
  await ctx.io.write(enabledResponse(turnedOn));
  return ok('ENABLE completed');
}
