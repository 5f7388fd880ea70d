import { readMailbox } from '../lexer/mailbox.js';
import type { Reader } from '../lexer/reader.js';

export interface GetQuotaRootRequest {
  command: 'GETQUOTAROOT';
  mailbox: string;
}

export function parseGetQuotaRoot(r: Reader): GetQuotaRootRequest {
  r.sp('GETQUOTAROOT');
  const mailbox = readMailbox(r);
  r.expectEnd('GETQUOTAROOT');
  return { command: 'GETQUOTAROOT', mailbox };
}
