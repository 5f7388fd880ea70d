import { esearchResponse, untaggedStatus } from '@correo/imap-proto';
import type { ContextChange, SearchKey, SortCriterion } from '@correo/imap-proto';
import type { SelectedContext } from './command-context.js';
import { searchMailbox } from './search-header-scan.js';
import { sortMessages } from './commands/sort.js';
import { sortableMessages } from './sortable-messages.js';

/**
 * A SEARCH or SORT with RETURN (UPDATE) (RFC 5267 4.3): its criteria, and its result as the client
 * holds it (UIDs, in sort order for SORT), so that a change of the mailbox is told as the messages
 * that left it (REMOVEFROM) and those that joined it (ADDTO) with their positions.
 */
export interface UpdateContext {
  uid: boolean;
  criteria: SearchKey[];
  /** null for SEARCH: positions are 0. */
  sort: SortCriterion[] | null;
  result: number[];
  /** The view's generation the result was computed at. */
  generation: number;
}

/**
 * Contexts one selected mailbox keeps updated. Each is evaluated again (one search, the same query as
 * the command's) when the mailbox changed, so they cost a query per change each: a few per session.
 */
export const MAX_UPDATE_CONTEXTS = 5;

/**
 * Registers the result of `tag` for updates, or tells the client it will not be updated
 * (`* NO [NOUPDATE "tag"]`, RFC 5267 4.3.1) when the mailbox has too many already.
 */
export async function keepUpdated(
  ctx: SelectedContext,
  context: Omit<UpdateContext, 'generation'>,
  partial: boolean,
): Promise<void> {
  const { view } = ctx;
  const refused = partial
    ? 'A PARTIAL result is not kept updated'
    : !view.updateContexts.has(ctx.tag) && view.updateContexts.size >= MAX_UPDATE_CONTEXTS
      ? `At most ${MAX_UPDATE_CONTEXTS} results are kept updated`
      : null;
  if (refused) {
    await ctx.io.write(untaggedStatus('NO', refused, { code: 'NOUPDATE', tag: ctx.tag }));
    return;
  }
  view.updateContexts.set(ctx.tag, { ...context, generation: view.generation });
}

/** The members of `numbers` at the 1-based positions of `range` (RETURN PARTIAL). */
export function inRange(numbers: readonly number[], range: { low: number; high: number }): number[] {
  return numbers.slice(range.low - 1, range.high);
}

/** The result of a context now: UIDs of live messages, in sort order for SORT. */
async function evaluate(ctx: SelectedContext, context: UpdateContext): Promise<number[]> {
  const { view, services } = ctx;
  if (context.sort) {
    const messages = await sortableMessages(ctx, context.criteria);
    return sortMessages(messages, context.sort).map((m) => m.uid);
  }
  const found = await searchMailbox(
    { pool: services.pool, blobs: services.blobs, batchSize: services.config.fetchBatch },
    ctx.account.accountId,
    view,
    context.criteria,
  );
  return found.map((m) => m.uid).filter((uid) => view.isLive(uid));
}

/**
 * The ESEARCH updates of every context whose mailbox changed since it was evaluated, written after the
 * EXISTS / EXPUNGE / FETCH they follow. Messages expunged leave a result without REMOVEFROM (the
 * EXPUNGE or VANISHED tells it); while expunges wait to be reported, updates wait too, so that
 * positions and numbers are the client's.
 */
export async function writeContextUpdates(ctx: SelectedContext): Promise<void> {
  const { view } = ctx;
  if (view.updateContexts.size === 0 || view.expungesPending) return;
  const out: Buffer[] = [];
  for (const [tag, context] of view.updateContexts) {
    if (context.generation === view.generation) continue;
    const generation = view.generation;
    let now: number[];
    try {
      now = await evaluate(ctx, context);
    } catch (error) {
      // A search that can no longer be run (e.g. past the header-scan limit) stops being updated.
      view.updateContexts.delete(tag);
      ctx.services.logger.debug({ error: (error as Error).message, tag }, 'search context dropped');
      out.push(untaggedStatus('NO', 'This result is no longer kept updated', { code: 'NOUPDATE', tag }));
      continue;
    }
    const before = context.result.filter((uid) => view.isLive(uid));
    const nowSet = new Set(now);
    const beforeSet = new Set(before);
    const number = (uid: number) => (context.uid ? uid : view.numberOf(uid));
    const removeFrom: ContextChange[] = [];
    const addTo: ContextChange[] = [];
    if (context.sort) {
      // Removals from the last position back, so each position is still the client's; then additions
      // in final order, each inserted at its final place.
      for (let i = before.length - 1; i >= 0; i--) {
        const uid = before[i]!;
        if (!nowSet.has(uid)) removeFrom.push({ position: i + 1, numbers: [number(uid)] });
      }
      now.forEach((uid, i) => {
        if (!beforeSet.has(uid)) addTo.push({ position: i + 1, numbers: [number(uid)] });
      });
    } else {
      const gone = before.filter((uid) => !nowSet.has(uid)).map(number);
      const added = now.filter((uid) => !beforeSet.has(uid)).map(number);
      if (gone.length) removeFrom.push({ position: 0, numbers: gone });
      if (added.length) addTo.push({ position: 0, numbers: added });
    }
    view.updateContexts.set(tag, { ...context, result: now, generation });
    if (removeFrom.length || addTo.length) {
      out.push(esearchResponse({ tag, uid: context.uid, sorted: context.sort !== null, removeFrom, addTo }));
    }
  }
  if (out.length) await ctx.io.write(...out);
}
