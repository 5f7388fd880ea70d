import type { ImapDate } from '../lexer/date.js';
import { MONTHS } from '../lexer/date.js';

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** date-time as INTERNALDATE: "dd-Mon-yyyy hh:mm:ss +zzzz" (day space-padded), in the given zone. */
export function formatDateTime(date: Date, offsetMinutes = 0): string {
  const local = new Date(date.getTime() + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const day = String(local.getUTCDate()).padStart(2, ' ');
  const year = pad(local.getUTCFullYear(), 4);
  const time = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
  return `${day}-${MONTHS[local.getUTCMonth()]}-${year} ${time} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

/** A SEARCH date: "1-Feb-1994". */
export function formatDate(date: ImapDate): string {
  return `${date.day}-${MONTHS[date.month - 1]}-${pad(date.year, 4)}`;
}
