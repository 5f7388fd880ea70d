import type { Reader } from '../lexer/reader.js';

/** COMPRESS (RFC 4978): DEFLATE is the one mechanism defined. */
export interface CompressRequest {
  command: 'COMPRESS';
  mechanism: string;
}

export function parseCompress(r: Reader): CompressRequest {
  r.sp('COMPRESS');
  const mechanism = r.keyword('a compression mechanism such as DEFLATE');
  r.expectEnd('COMPRESS');
  return { command: 'COMPRESS', mechanism };
}
