import { esearchResponse, searchResponse } from '@correo/imap-proto';
import type { EsearchResult, ResultRange, SearchRequest, SearchReturnOption } from '@correo/imap-proto';
import type { Completion, SelectedContext } from '../command-context.js';
import { no, ok } from '../command-context.js';
import { HeaderScanLimitError, searchMailbox } from '../search-header-scan.js';
import { inRange, keepUpdated } from '../search-contexts.js';
import { heldCondition, searchHeld, usesModseq } from '../search-program.js';

/**
 * SEARCH and UID SEARCH: from the view and the process's message cache when memory can answer
 * exactly (search-program.ts searchHeld), else SQL, plus header blocks read for HEADER fields the
 * store has no column for;
 * ESEARCH (RFC 4731) with RETURN, or under IMAP4rev2; SEARCHRES (RFC 5182) RETURN (SAVE) for "$";
 * CONTEXT=SEARCH (RFC 5267) RETURN (UPDATE) and RETURN (PARTIAL low:high).
 */
export async function search(ctx: SelectedContext, request: SearchRequest): Promise<Completion> {
  const { session, services } = ctx;
  const view = ctx.view;
  const name = request.uid ? 'UID SEARCH' : 'SEARCH';
  const save = request.returnOptions?.includes('SAVE') ?? false;
  let found;
  try {
    // Keys on flags, UIDs and numbers (SEARCH UNSEEN, DELETED...) and on the summary columns and size
    // (FROM, SUBJECT, LARGER...): from the view, brought up to date first (a statement only when a
    // change was heard of) as FETCH FLAGS is, and the facts the process holds (search-program.ts).
    // Messages that arrive with the catch-up are not the client's yet (their EXISTS comes after).
    // So are they when memory cannot answer after all and the store does, over the view caught up.
    const condition = heldCondition(view, request.criteria);
    let told = Infinity;
    if (condition) {
      told = view.largestUid;
      await session.catchUp();
      found = await searchHeld(
        { pool: services.pool, messageCache: services.messageCache, batchSize: services.config.fetchBatch },
        ctx.account.accountId,
        view,
        condition,
      );
    }
    found ??= await searchMailbox(
      { pool: services.pool, blobs: services.blobs, batchSize: services.config.fetchBatch },
      ctx.account.accountId,
      view,
      request.criteria,
    );
    found = found.filter((m) => m.uid <= told);
  } catch (error) {
    // A SEARCH (SAVE) that ends in NO leaves "$" empty, not stale (RFC 5182 2.1).
    if (save) view.saveSearchResult([]);
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
  // UPDATE (RFC 5267) keeps the result updated; CONTEXT is only a hint. Neither asks for data.
  const returned = options.filter((o) => o !== 'SAVE' && o !== 'UPDATE' && o !== 'CONTEXT');
  if (options.includes('UPDATE')) {
    await keepUpdated(
      ctx,
      { uid: request.uid, criteria: request.criteria, sort: null, result: matches.map((m) => m.uid) },
      request.partial !== undefined,
    );
  }
  if (save) {
    view.saveSearchResult(
      savedPart(
        matches.map((m) => m.uid),
        returned,
        request.partial,
      ),
    );
    // SAVE alone asks for nothing back but the tagged OK (RFC 5182 2.1).
    if (returned.length === 0) return ok(`${name} completed, result saved`);
  }
  const wanted = returned.length ? returned : ['ALL'];
  const result: EsearchResult = { tag: ctx.tag, uid: request.uid };
  const [first, last] = [numbers.at(0), numbers.at(-1)];
  if (first !== undefined && last !== undefined) {
    if (wanted.includes('MIN')) result.min = first;
    if (wanted.includes('MAX')) result.max = last;
    if (wanted.includes('ALL')) result.all = numbers;
  }
  if (wanted.includes('COUNT')) result.count = numbers.length;
  if (request.partial) result.partial = { ...request.partial, numbers: inRange(numbers, request.partial) };
  if (modseq !== undefined) result.modseq = returnedModseq(matches, wanted) ?? modseq;
  await ctx.io.write(esearchResponse(result));
  return ok(`${name} completed`);
}

/**
 * With only MIN and/or MAX asked for, MODSEQ is the highest of the messages those return, not of all
 * matches (RFC 7162 3.1.5, RFC 4731 3.2); null when ALL or COUNT cover every match.
 */
function returnedModseq(matches: { modseq: number }[], returned: string[]): number | null {
  if (returned.includes('ALL') || returned.includes('COUNT')) return null;
  const picked: number[] = [];
  const [first, last] = [matches.at(0), matches.at(-1)];
  if (first && returned.includes('MIN')) picked.push(first.modseq);
  if (last && returned.includes('MAX')) picked.push(last.modseq);
  return picked.length ? Math.max(...picked) : null;
}

/**
 * What SAVE keeps of the ascending matches (RFC 5182 2.4): with MIN and/or MAX alone only those
 * messages; alone, or beside ALL or COUNT, all of them.
 */
function savedPart(uids: number[], returned: SearchReturnOption[], partial?: ResultRange): number[] {
  if (uids.length === 0 || returned.length === 0) return uids;
  if (returned.includes('ALL') || returned.includes('COUNT')) return uids;
  // PARTIAL saves the messages it returns (as RFC 9394 6 has it).
  const kept: number[] = partial ? inRange(uids, partial) : [];
  const [first, last] = [uids.at(0), uids.at(-1)];
  if (first !== undefined && returned.includes('MIN')) kept.push(first);
  if (last !== undefined && returned.includes('MAX')) kept.push(last);
  return kept;
}
