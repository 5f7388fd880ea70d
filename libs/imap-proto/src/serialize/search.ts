import type { ImapValue } from './encoder.js';
import { atom, num, str, untagged } from './encoder.js';
import { compressInOrder, compressSequenceSet } from './sequence-set.js';

/** `* SEARCH 2 3 6 [(MODSEQ n)]`: the IMAP4rev1 answer. */
export function searchResponse(numbers: number[], modseq?: number | bigint | null): Buffer {
  const values: ImapValue[] = [atom('SEARCH'), ...numbers.map(num)];
  if (modseq !== undefined && modseq !== null && numbers.length) values.push([atom('MODSEQ'), num(modseq)]);
  return untagged(values);
}

export interface EsearchResult {
  /** The tag of the SEARCH it answers. */
  tag: string;
  uid: boolean;
  min?: number;
  max?: number;
  /** Written as a compressed sequence-set. */
  all?: number[];
  /** ESORT (RFC 5267): ALL keeps the sort order, joining only ascending runs. */
  sorted?: boolean;
  count?: number;
  modseq?: number | bigint;
  /**
   * CONTEXT=SEARCH / CONTEXT=SORT updates (RFC 5267 4.3): each REMOVEFROM then each ADDTO, in order,
   * with its context position (0 for an unsorted SEARCH).
   */
  removeFrom?: ContextChange[];
  addTo?: ContextChange[];
  /** RETURN (PARTIAL low:high) (RFC 5267 4.4): the range asked for and the numbers at those positions. */
  partial?: { low: number; high: number; numbers: number[] };
}

export interface ContextChange {
  position: number;
  numbers: number[];
}

/** `* ESEARCH (TAG "a1") UID MIN 1 MAX 9 ALL 1:3,9 COUNT 4` (RFC 4731); only the fields present. */
export function esearchResponse(result: EsearchResult): Buffer {
  const values: ImapValue[] = [atom('ESEARCH'), [atom('TAG'), str(result.tag)]];
  if (result.uid) values.push(atom('UID'));
  if (result.min !== undefined) values.push(atom('MIN'), num(result.min));
  if (result.max !== undefined) values.push(atom('MAX'), num(result.max));
  if (result.all !== undefined && result.all.length)
    values.push(
      atom('ALL'),
      atom(result.sorted ? compressInOrder(result.all) : compressSequenceSet(result.all)),
    );
  if (result.count !== undefined) values.push(atom('COUNT'), num(result.count));
  if (result.partial !== undefined) {
    const { low, high, numbers } = result.partial;
    const found = numbers.length
      ? atom(result.sorted ? compressInOrder(numbers) : compressSequenceSet(numbers))
      : null;
    values.push(atom('PARTIAL'), [atom(`${low}:${high}`), found]);
  }
  if (result.modseq !== undefined) values.push(atom('MODSEQ'), num(result.modseq));
  const set = (numbers: number[]) =>
    atom(result.sorted ? compressInOrder(numbers) : compressSequenceSet(numbers));
  for (const change of result.removeFrom ?? [])
    values.push(atom('REMOVEFROM'), [num(change.position), set(change.numbers)]);
  if (result.addTo?.length)
    values.push(
      atom('ADDTO'),
      result.addTo.flatMap((change) => [num(change.position), set(change.numbers)]),
    );
  return untagged(values);
}

/** `* SORT 2 84 882` (RFC 5256 4): the numbers in sort order. */
export function sortResponse(numbers: number[]): Buffer {
  return untagged([atom('SORT'), ...numbers.map(num)]);
}
