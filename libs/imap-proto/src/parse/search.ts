import { isAtomChar, readRun } from '../lexer/atom.js';
import type { Reader } from '../lexer/reader.js';
import { decodeUtf8, readQuoted } from '../lexer/string.js';
import type { SearchKey } from './search-key.js';
import { readSearchKey } from './search-key.js';

export type SearchReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE';

export interface SearchRequest {
  command: 'SEARCH';
  uid: boolean;
  /** Uppercased CHARSET: UTF-8 or US-ASCII (others fail with code BADCHARSET); null when not given. */
  charset: string | null;
  /** ESEARCH RETURN options; null without RETURN (answer with SEARCH), [] for RETURN () (means ALL). */
  returnOptions: SearchReturnOption[] | null;
  /** All must match. */
  criteria: SearchKey[];
}

const RETURN_OPTIONS: ReadonlySet<string> = new Set<SearchReturnOption>([
  'MIN',
  'MAX',
  'ALL',
  'COUNT',
  'SAVE',
]);

function readReturnOptions(r: Reader): SearchReturnOption[] {
  r.sp('RETURN');
  r.expectChar(0x28, '"(" opening the RETURN options');
  const options: SearchReturnOption[] = [];
  if (r.tryChar(0x29)) return options;
  do {
    const name = r.keyword('a RETURN option such as COUNT');
    if (!RETURN_OPTIONS.has(name)) r.fail(`Unknown RETURN option ${name}`);
    if (!options.includes(name as SearchReturnOption)) options.push(name as SearchReturnOption);
  } while (r.trySp());
  r.expectChar(0x29, '")" closing the RETURN options');
  return options;
}

export function parseSearch(r: Reader, uid: boolean): SearchRequest {
  r.sp('SEARCH');
  let returnOptions: SearchReturnOption[] | null = null;
  let charset: string | null = null;
  if (r.tryKeyword('RETURN')) {
    returnOptions = readReturnOptions(r);
    r.sp('the RETURN options');
  }
  if (r.tryKeyword('CHARSET')) {
    r.sp('CHARSET');
    const raw = r.peek() === 0x22 ? decodeUtf8(r, readQuoted(r), 'The charset') : readRun(r, isAtomChar);
    if (raw === '') r.fail(`Expected a charset name, found ${r.describeHere()}`);
    charset = raw.toUpperCase();
    // Strings are read as UTF-8 below; other charsets get NO [BADCHARSET] (RFC 9051 6.4.4), not BAD.
    if (charset !== 'UTF-8' && charset !== 'US-ASCII')
      r.fail(`Charset ${charset} is not supported`, 'BADCHARSET');
    r.sp('the charset');
  }
  const criteria: SearchKey[] = [];
  do criteria.push(readSearchKey(r));
  while (r.trySp());
  r.expectEnd('SEARCH');
  return { command: 'SEARCH', uid, charset, returnOptions, criteria };
}
