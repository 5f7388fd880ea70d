import type { Reader } from '../lexer/reader.js';
import { readCharset, readSearchCriteria } from './search.js';
import type { SearchKey } from './search-key.js';

/** The threading algorithms of RFC 5256. */
export type ThreadAlgorithm = 'ORDEREDSUBJECT' | 'REFERENCES';

export const THREAD_ALGORITHMS: readonly ThreadAlgorithm[] = ['ORDEREDSUBJECT', 'REFERENCES'];

export interface ThreadRequest {
  command: 'THREAD';
  uid: boolean;
  algorithm: ThreadAlgorithm;
  /** Uppercased: UTF-8 or US-ASCII (others fail with BADCHARSET). */
  charset: string;
  /** All must match. */
  criteria: SearchKey[];
}

/** THREAD algorithm charset search-criteria (RFC 5256 3). */
export function parseThread(r: Reader, uid: boolean): ThreadRequest {
  r.sp('THREAD');
  const algorithm = r.keyword('a threading algorithm such as REFERENCES');
  if (!(THREAD_ALGORITHMS as readonly string[]).includes(algorithm))
    r.fail(`Unknown threading algorithm ${algorithm.slice(0, 40)}`);
  r.sp('the algorithm');
  const charset = readCharset(r);
  r.sp('the charset');
  const criteria = readSearchCriteria(r, 'THREAD');
  return { command: 'THREAD', uid, algorithm: algorithm as ThreadAlgorithm, charset, criteria };
}
