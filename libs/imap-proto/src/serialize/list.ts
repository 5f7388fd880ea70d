import type { EncodeOptions, ImapValue } from './encoder.js';
import { atom, mailboxValue, str, untagged } from './encoder.js';

export interface ListEntry {
  name: string;
  /** Hierarchy delimiter, null when the account has no hierarchy. */
  delimiter: string | null;
  /** Name attributes and special-use, e.g. ["\\HasNoChildren", "\\Sent"]. */
  attributes: string[];
  /** CHILDINFO extended data (RFC 5258), e.g. ["SUBSCRIBED"] under RECURSIVEMATCH. */
  childInfo?: string[];
  /** OLDNAME extended data (RFC 5465 5.4): the name a renamed mailbox had. */
  oldName?: string;
}

function listValues(kind: 'LIST' | 'LSUB', entry: ListEntry, options: EncodeOptions): ImapValue[] {
  const values: ImapValue[] = [
    atom(kind),
    entry.attributes.map(atom),
    entry.delimiter === null ? null : str(entry.delimiter),
    mailboxValue(entry.name, options),
  ];
  if (entry.childInfo?.length) values.push([str('CHILDINFO'), entry.childInfo.map((c) => str(c))]);
  if (entry.oldName !== undefined) values.push([str('OLDNAME'), [mailboxValue(entry.oldName, options)]]);
  return values;
}

/** `* LIST (\HasNoChildren) "/" name` with optional extended data. */
export function listResponse(entry: ListEntry, options: EncodeOptions = {}): Buffer {
  return untagged(listValues('LIST', entry, options), options);
}

/** `* LSUB () "/" name` (IMAP4rev1). */
export function lsubResponse(entry: ListEntry, options: EncodeOptions = {}): Buffer {
  return untagged(listValues('LSUB', { ...entry, childInfo: [] }, options), options);
}
