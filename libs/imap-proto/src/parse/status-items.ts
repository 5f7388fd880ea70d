import type { Reader } from '../lexer/reader.js';

export const STATUS_ITEMS = [
  'MESSAGES',
  'UIDNEXT',
  'UIDVALIDITY',
  'UNSEEN',
  'DELETED',
  'SIZE',
  'RECENT',
  'HIGHESTMODSEQ',
  'APPENDLIMIT',
  /** OBJECTID (RFC 8474 4). */
  'MAILBOXID',
] as const;
export type StatusItem = (typeof STATUS_ITEMS)[number];

/** "(" status-att *(SP status-att) ")", shared by STATUS and LIST ... RETURN (STATUS (...)). */
export function readStatusItems(r: Reader): StatusItem[] {
  r.expectChar(0x28, '"(" opening the status items');
  const items: StatusItem[] = [];
  do {
    const name = r.keyword('a status item such as MESSAGES');
    if (!(STATUS_ITEMS as readonly string[]).includes(name)) r.fail(`Unknown status item ${name}`);
    if (!items.includes(name as StatusItem)) items.push(name as StatusItem);
  } while (r.trySp());
  r.expectChar(0x29, '")" closing the status items');
  return items;
}
