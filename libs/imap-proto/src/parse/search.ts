import { isAtomChar, readRun } from '../lexer/atom.js';
import type { Reader } from '../lexer/reader.js';
import { readNzNumber } from '../lexer/number.js';
import { decodeUtf8, readQuoted } from '../lexer/string.js';
import type { SearchKey } from './search-key.js';
import { readSearchKey } from './search-key.js';

/** RFC 4731, RFC 5182 (SAVE), RFC 5267 (UPDATE keeps the result updated; CONTEXT is a hint). */
export type SearchReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE' | 'UPDATE' | 'CONTEXT' | 'PARTIAL';

export interface SearchRequest {
  command: 'SEARCH';
  uid: boolean;
  /** Uppercased CHARSET: UTF-8 or US-ASCII (others fail with code BADCHARSET); null when not given. */
  charset: string | null;
  /** ESEARCH RETURN options; null without RETURN (answer with SEARCH), [] for RETURN () (means ALL). */
  returnOptions: SearchReturnOption[] | null;
  /** All must match. */
  criteria: SearchKey[];
  /** RETURN (PARTIAL low:high), only when given. */
  partial?: ResultRange;
}

const RETURN_OPTIONS: ReadonlySet<string> = new Set<SearchReturnOption>([
  'MIN',
  'MAX',
  'ALL',
  'COUNT',
  'SAVE',
  'UPDATE',
  'CONTEXT',
  'PARTIAL',
]);

/** PARTIAL low:high of RFC 5267 4.4: the positions (1-based, in result order) to return. */
export interface ResultRange {
  low: number;
  high: number;
}

/**
 * RETURN (...) of SEARCH (RFC 4731) and SORT (RFC 5267), with the options that command knows; a
 * PARTIAL option (RFC 5267 4.4) takes its range, given back in `partial`.
 */
export function readReturnOptions<T extends string>(
  r: Reader,
  known: ReadonlySet<string>,
  partial?: (range: ResultRange) => void,
): T[] {
  r.sp('RETURN');
  r.expectChar(0x28, '"(" opening the RETURN options');
  const options: T[] = [];
  if (r.tryChar(0x29)) return options;
  do {
    const name = r.keyword('a RETURN option such as COUNT');
    if (!known.has(name)) r.fail(`Unknown RETURN option ${name}`);
    if (name === 'PARTIAL' && partial) {
      r.sp('PARTIAL');
      const low = readNzNumber(r, 'the first position of PARTIAL');
      r.expectChar(0x3a, '":" in the PARTIAL range');
      const high = readNzNumber(r, 'the last position of PARTIAL');
      // A range may be written either way round (as sequence ranges are).
      partial({ low: Math.min(low, high), high: Math.max(low, high) });
    }
    if (!options.includes(name as T)) options.push(name as T);
  } while (r.trySp());
  r.expectChar(0x29, '")" closing the RETURN options');
  return options;
}

/**
 * A charset name (SEARCH CHARSET, SORT and THREAD), uppercased. Strings are read as UTF-8; other
 * charsets get NO [BADCHARSET] (RFC 9051 6.4.4), not BAD.
 */
export function readCharset(r: Reader): string {
  const raw = r.peek() === 0x22 ? decodeUtf8(r, readQuoted(r), 'The charset') : readRun(r, isAtomChar);
  if (raw === '') r.fail(`Expected a charset name, found ${r.describeHere()}`);
  const charset = raw.toUpperCase();
  if (charset !== 'UTF-8' && charset !== 'US-ASCII')
    r.fail(`Charset ${charset} is not supported`, 'BADCHARSET');
  return charset;
}

/** search-key *(SP search-key) up to the end of the command: all must match. */
export function readSearchCriteria(r: Reader, command: string): SearchKey[] {
  const criteria: SearchKey[] = [];
  do criteria.push(readSearchKey(r));
  while (r.trySp());
  r.expectEnd(command);
  return criteria;
}

export function parseSearch(r: Reader, uid: boolean): SearchRequest {
  r.sp('SEARCH');
  let returnOptions: SearchReturnOption[] | null = null;
  let charset: string | null = null;
  let partial: ResultRange | undefined;
  if (r.tryKeyword('RETURN')) {
    returnOptions = readReturnOptions<SearchReturnOption>(r, RETURN_OPTIONS, (range) => (partial = range));
    r.sp('the RETURN options');
  }
  if (r.tryKeyword('CHARSET')) {
    r.sp('CHARSET');
    charset = readCharset(r);
    r.sp('the charset');
  }
  const criteria = readSearchCriteria(r, 'SEARCH');
  const request: SearchRequest = { command: 'SEARCH', uid, charset, returnOptions, criteria };
  if (partial) request.partial = partial;
  return request;
}
