import type { Reader } from '../lexer/reader.js';
import { readAstringText } from '../lexer/string.js';

export interface GetQuotaRequest {
  command: 'GETQUOTA';
  /** The quota root name (RFC 9208), e.g. "" for the account's root. */
  root: string;
}

export function parseGetQuota(r: Reader): GetQuotaRequest {
  r.sp('GETQUOTA');
  const root = readAstringText(r, 'a quota root');
  r.expectEnd('GETQUOTA');
  return { command: 'GETQUOTA', root };
}
