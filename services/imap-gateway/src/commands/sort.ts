import { esearchResponse, sortResponse } from '@correo/imap-proto';
import type { EsearchResult, SortCriterion, SortKey, SortRequest } from '@correo/imap-proto';
import type { Completion, SelectedContext } from '../command-context.js';
import { no, ok } from '../command-context.js';
import { inRange, keepUpdated } from '../search-contexts.js';
import { HeaderScanLimitError } from '../search-header-scan.js';
import { casemap, sortableMessages } from '../sortable-messages.js';
import type { SortableMessage } from '../sortable-messages.js';

type Compare = (a: SortableMessage, b: SortableMessage) => number;

const byNumber =
  (value: (m: SortableMessage) => number): Compare =>
  (a, b) =>
    value(a) - value(b);

/** The RFC 5256 (and RFC 5957 DISPLAY) keys; strings under i;ascii-casemap. */
function keyCompare(key: SortKey): Compare {
  if (key === 'ARRIVAL') return byNumber((m) => m.arrival);
  if (key === 'DATE') return byNumber((m) => m.sent);
  if (key === 'SIZE') return byNumber((m) => m.size);
  const field = (
    {
      CC: 'cc',
      FROM: 'from',
      SUBJECT: 'subject',
      TO: 'to',
      DISPLAYFROM: 'displayFrom',
      DISPLAYTO: 'displayTo',
    } as const
  )[key];
  const folded = new Map<SortableMessage, Buffer>();
  const of = (m: SortableMessage): Buffer => {
    let value = folded.get(m);
    if (!value) folded.set(m, (value = casemap(m.keys[field])));
    return value;
  };
  return (a, b) => Buffer.compare(of(a), of(b));
}

/** The criteria in precedence, each REVERSE only for itself; ties left in sequence order (RFC 5256 3). */
export function sortMessages(
  messages: SortableMessage[],
  criteria: readonly SortCriterion[],
): SortableMessage[] {
  const compares = criteria.map(({ key, reverse }) => {
    const compare = keyCompare(key);
    return reverse ? (a: SortableMessage, b: SortableMessage) => compare(b, a) : compare;
  });
  return [...messages].sort((a, b) => {
    for (const compare of compares) {
      const order = compare(a, b);
      if (order !== 0) return order;
    }
    return a.number - b.number;
  });
}

/** SORT and UID SORT (RFC 5256), ESORT's RETURN options (RFC 5267). */
export async function sort(ctx: SelectedContext, request: SortRequest): Promise<Completion> {
  const name = request.uid ? 'UID SORT' : 'SORT';
  let messages;
  try {
    messages = await sortableMessages(ctx, request.criteria);
  } catch (error) {
    if (error instanceof HeaderScanLimitError) return no(error.message, { code: 'LIMIT' });
    throw error;
  }
  const sorted = sortMessages(messages, request.sort);
  const numbers = sorted.map((m) => (request.uid ? m.uid : m.number));
  if (request.returnOptions === null) {
    await ctx.io.write(sortResponse(numbers));
    return ok(`${name} completed`);
  }
  if (request.returnOptions.includes('UPDATE')) {
    // CONTEXT=SORT (RFC 5267 4.3): the sorted result is kept updated with ADDTO / REMOVEFROM.
    await keepUpdated(
      ctx,
      { uid: request.uid, criteria: request.criteria, sort: request.sort, result: sorted.map((m) => m.uid) },
      request.partial !== undefined,
    );
  }
  const returned = request.returnOptions.filter((o) => o !== 'UPDATE' && o !== 'CONTEXT');
  const wanted = returned.length ? returned : ['ALL'];
  const result: EsearchResult = { tag: ctx.tag, uid: request.uid, sorted: true };
  // MIN and MAX are the first and last in sort order (RFC 5267 3.2).
  const [first, last] = [numbers.at(0), numbers.at(-1)];
  if (first !== undefined && last !== undefined) {
    if (wanted.includes('MIN')) result.min = first;
    if (wanted.includes('MAX')) result.max = last;
    if (wanted.includes('ALL')) result.all = numbers;
  }
  if (wanted.includes('COUNT')) result.count = numbers.length;
  // PARTIAL (RFC 5267 4.4): a page of the sorted result, e.g. the 50 rows a message list shows.
  if (request.partial) result.partial = { ...request.partial, numbers: inRange(numbers, request.partial) };
  await ctx.io.write(esearchResponse(result));
  return ok(`${name} completed`);
}
