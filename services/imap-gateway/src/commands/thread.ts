import { threadResponse } from '@correo/imap-proto';
import type { ThreadRequest } from '@correo/imap-proto';
import type { Completion, SelectedContext } from '../command-context.js';
import { no, ok } from '../command-context.js';
import { HeaderScanLimitError } from '../search-header-scan.js';
import { sortableMessages } from '../sortable-messages.js';
import { threadByOrderedSubject, threadByReferences } from '../threading.js';

/** THREAD and UID THREAD (RFC 5256) with ORDEREDSUBJECT or REFERENCES, over the stored keys. */
export async function thread(ctx: SelectedContext, request: ThreadRequest): Promise<Completion> {
  const name = request.uid ? 'UID THREAD' : 'THREAD';
  let messages;
  try {
    messages = await sortableMessages(ctx, request.criteria);
  } catch (error) {
    if (error instanceof HeaderScanLimitError) return no(error.message, { code: 'LIMIT' });
    throw error;
  }
  const id = request.uid ? (m: { uid: number }) => m.uid : (m: { number: number }) => m.number;
  const threads =
    request.algorithm === 'REFERENCES'
      ? threadByReferences(messages, id)
      : threadByOrderedSubject(messages, id);
  await ctx.io.write(threadResponse(threads));
  return ok(`${name} completed`);
}
