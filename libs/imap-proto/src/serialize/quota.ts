import type { EncodeOptions, ImapValue } from './encoder.js';
import { astr, atom, mailboxValue, num, untagged } from './encoder.js';

export interface QuotaResource {
  /** STORAGE (in KiB), MESSAGE, MAILBOX, ... (RFC 9208 section 5). */
  name: string;
  usage: number;
  limit: number;
}

/** `* QUOTA "" (STORAGE 10 512)`. */
export function quotaResponse(root: string, resources: QuotaResource[]): Buffer {
  const list: ImapValue[] = resources.flatMap((r) => [atom(r.name), num(r.usage), num(r.limit)]);
  return untagged([atom('QUOTA'), astr(root), list]);
}

/** `* QUOTAROOT INBOX ""`. */
export function quotaRootResponse(mailbox: string, roots: string[], options: EncodeOptions = {}): Buffer {
  return untagged([atom('QUOTAROOT'), mailboxValue(mailbox, options), ...roots.map(astr)], options);
}
