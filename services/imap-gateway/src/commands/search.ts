import { esearchResponse, searchResponse } from '@correo/imap-proto';
import type { EsearchResult, SearchRequest } from '@correo/imap-proto';
import { searchImapMailbox } from '@correo/store';
import type { CommandContext, Completion } from '../command-context.js';
import { bad, ok } from '../command-context.js';
import { SearchResNotSupported, searchCondition, usesModseq } from '../search-program.js';

/** SEARCH and UID SEARCH: one SQL query; ESEARCH (RFC 4731) with RETURN, or under IMAP4rev2. */
export async function search(ctx: CommandContext, request: SearchRequest): Promise<Completion> {
  const { session, services } = ctx;
  const view = session.view!;
  const name = request.uid ? 'UID SEARCH' : 'SEARCH';
  if (request.returnOptions?.includes('SAVE')) return bad('SEARCHRES (SAVE) is not supported');
  let condition;
  try {
    condition = { kind: 'and' as const, operands: request.criteria.map((key) => searchCondition(key, view)) };
  } catch (error) {
    if (error instanceof SearchResNotSupported) return bad(error.message);
    throw error;
  }
  const withModseq = request.criteria.some(usesModseq);
  if (withModseq) session.enabled.add('CONDSTORE');
  const found = await searchImapMailbox(services.pool, session.account!.accountId, view.mailboxId, condition);
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
