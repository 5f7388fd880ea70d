import type { SearchKey } from '../src/index.js';
import { astr, encodeValues, formatDate, formatSequenceSet, str } from '../src/index.js';

/** Writes a search key back as a client would send it: only for round-trip tests. */
export function formatSearchKey(key: SearchKey): string {
  const text = (value: string): string => encodeValues([astr(value)], { utf8: true }).toString('utf8');
  switch (key.key) {
    case 'BCC':
    case 'BODY':
    case 'CC':
    case 'FROM':
    case 'SUBJECT':
    case 'TEXT':
    case 'TO':
      return `${key.key} ${text(key.value)}`;
    case 'HEADER':
      return `HEADER ${text(key.field)} ${text(key.value)}`;
    case 'KEYWORD':
    case 'UNKEYWORD':
      return `${key.key} ${key.flag}`;
    case 'BEFORE':
    case 'ON':
    case 'SINCE':
    case 'SENTBEFORE':
    case 'SENTON':
    case 'SENTSINCE':
    case 'SAVEDBEFORE':
    case 'SAVEDON':
    case 'SAVEDSINCE':
      return `${key.key} ${formatDate(key.date)}`;
    case 'EMAILID':
    case 'THREADID':
      return `${key.key} ${key.id}`;
    case 'LARGER':
    case 'SMALLER':
      return `${key.key} ${key.size}`;
    case 'OLDER':
    case 'YOUNGER':
      return `${key.key} ${key.seconds}`;
    case 'UID':
      return `UID ${formatSequenceSet(key.set)}`;
    case 'SEQUENCE':
      return formatSequenceSet(key.set);
    case 'MODSEQ':
      return key.entry
        ? `MODSEQ ${encodeValues([str(key.entry.name)]).toString('latin1')} ${key.entry.type} ${key.modseq}`
        : `MODSEQ ${key.modseq}`;
    case 'NOT':
      return `NOT ${formatSearchKey(key.operand)}`;
    case 'OR':
      return `OR ${formatSearchKey(key.left)} ${formatSearchKey(key.right)}`;
    case 'AND':
      return `(${key.operands.map(formatSearchKey).join(' ')})`;
    default:
      return key.key;
  }
}
