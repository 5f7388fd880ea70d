import { esearchResponse, searchResponse } from '@correo/imap-proto';
import type { EsearchResult, SearchRequest } from '@correo/imap-proto';
import type { CommandContext, Completion } from '../command-context.js';
import { bad, no, ok } from '../command-context.js';
import { HeaderScanLimitError, searchMailbox } from '../search-header-scan.js';
import { SearchResNotSupported, usesModseq } from '../search-program.js';

/**
 * SEARCH and UID SEARCH: SQL, plus header blocks read for HEADER fields the store has no column for;
 * ESEARCH (RFC 4731) with RETURN, or under IMAP4rev2.
 */
export async function search(ctx: CommandContext, request: SearchRequest): Promise<Completion> {
  const { session, services } = ctx;
  const view = session.view!;
  const name = request.uid ? 'UID SEARCH' : 'SEARCH';
  if (request.returnOptions?.includes('SAVE')) return bad('SEARCHRES (SAVE) is not supported');
  let found;
  try {
    found = await searchMailbox(
      { pool: services.pool, blobs: services.blobs, batchSize: services.config.fetchBatch },
      session.account!.accountId,
      view,
      request.criteria,
    );
  } catch (error) {
    if (error instanceof SearchResNotSupported) return bad(error.message);
    if (error instanceof HeaderScanLimitError) return no(error.message, { code: 'LIMIT' });
    throw error;
  }
  const withModseq = request.criteria.some(usesModseq);
  if (withModseq) session.enabled.add('CONDSTORE');
  // Only messages the client has been told about: new arrivals wait for their EXISTS.
  const matches = found.filter((m) => view.isLive(m.uid));
  // Ascending either way: message numbers follow UID order.
  const numbers = matches.map((m) => (request.uid ? m.uid : view.numberOf(m.uid)));
  const modseq =
    withModseq && matches.length ? matches.reduce((max, m) => Math.max(max, m.modseq), 0) : undefined;

  const options = request.returnOptions ?? (session.rev2 ? [] : null);
  if (options === null) {
    await ctx.io.write(searchResponse(numbers, modseq ?? null));
    return ok(`${name} completed`);
  }
  const wanted = options.length ? options : ['ALL'];
  const result: EsearchResult = { tag: ctx.tag, uid: request.uid };
  if (numbers.length) {
    if (wanted.includes('MIN')) result.min = numbers[0]!;
    if (wanted.includes('MAX')) result.max = numbers[numbers.length - 1]!;
    if (wanted.includes('ALL')) result.all = numbers;
  }
  if (wanted.includes('COUNT')) result.count = numbers.length;
  if (modseq !== undefined) result.modseq = modseq;
  await ctx.io.write(esearchResponse(result));
  return ok(`${name} completed`);
}
