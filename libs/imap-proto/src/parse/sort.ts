import type { Reader } from '../lexer/reader.js';
import { readCharset, readReturnOptions, readSearchCriteria } from './search.js';
import type { ResultRange } from './search.js';
import type { SearchKey } from './search-key.js';

/** RFC 5256 sort keys, with DISPLAYFROM and DISPLAYTO of RFC 5957. */
export type SortKey =
  'ARRIVAL' | 'CC' | 'DATE' | 'FROM' | 'SIZE' | 'SUBJECT' | 'TO' | 'DISPLAYFROM' | 'DISPLAYTO';

export interface SortCriterion {
  key: SortKey;
  reverse: boolean;
}

/** ESORT (RFC 5267) RETURN options; UPDATE and CONTEXT of CONTEXT=SORT. */
export type SortReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'UPDATE' | 'CONTEXT' | 'PARTIAL';

export interface SortRequest {
  command: 'SORT';
  uid: boolean;
  /** ESORT RETURN options; null without RETURN (answer with SORT), [] for RETURN () (means ALL). */
  returnOptions: SortReturnOption[] | null;
  /** In order of precedence; at least one. */
  sort: SortCriterion[];
  /** Uppercased: UTF-8 or US-ASCII (others fail with BADCHARSET). */
  charset: string;
  /** All must match. */
  criteria: SearchKey[];
  /** RETURN (PARTIAL low:high), only when given. */
  partial?: ResultRange;
}

export const SORT_KEYS: ReadonlySet<string> = new Set<SortKey>([
  'ARRIVAL',
  'CC',
  'DATE',
  'FROM',
  'SIZE',
  'SUBJECT',
  'TO',
  'DISPLAYFROM',
  'DISPLAYTO',
]);

const RETURN_OPTIONS: ReadonlySet<string> = new Set<SortReturnOption>([
  'MIN',
  'MAX',
  'ALL',
  'COUNT',
  'UPDATE',
  'CONTEXT',
  'PARTIAL',
]);

/** sort-criteria: "(" sort-criterion *(SP sort-criterion) ")", sort-criterion = ["REVERSE" SP] sort-key. */
function readSortCriteria(r: Reader): SortCriterion[] {
  r.expectChar(0x28, '"(" opening the sort criteria');
  const criteria: SortCriterion[] = [];
  do {
    let key = r.keyword('a sort key such as DATE');
    const reverse = key === 'REVERSE';
    if (reverse) {
      r.sp('REVERSE');
      key = r.keyword('a sort key after REVERSE');
    }
    if (!SORT_KEYS.has(key)) r.fail(`Unknown sort key ${key.slice(0, 40)}`);
    criteria.push({ key: key as SortKey, reverse });
  } while (r.trySp());
  r.expectChar(0x29, '")" closing the sort criteria');
  return criteria;
}

/** SORT [RETURN (...)] (criteria) charset search-criteria (RFC 5256 3, RFC 5267 3). */
export function parseSort(r: Reader, uid: boolean): SortRequest {
  r.sp('SORT');
  let returnOptions: SortReturnOption[] | null = null;
  let partial: ResultRange | undefined;
  if (r.tryKeyword('RETURN')) {
    returnOptions = readReturnOptions<SortReturnOption>(r, RETURN_OPTIONS, (range) => (partial = range));
    r.sp('the RETURN options');
  }
  const sort = readSortCriteria(r);
  r.sp('the sort criteria');
  const charset = readCharset(r);
  r.sp('the charset');
  const criteria = readSearchCriteria(r, 'SORT');
  const request: SortRequest = { command: 'SORT', uid, returnOptions, sort, charset, criteria };
  if (partial) request.partial = partial;
  return request;
}
