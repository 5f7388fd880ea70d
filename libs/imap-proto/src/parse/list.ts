import { readListMailbox, readMailbox } from '../lexer/mailbox.js';
import type { Reader } from '../lexer/reader.js';
import type { StatusItem } from './status-items.js';
import { readStatusItems } from './status-items.js';

/** LIST-EXTENDED selection options (RFC 5258, RFC 6154). */
export interface ListSelection {
  subscribed: boolean;
  remote: boolean;
  recursiveMatch: boolean;
  specialUse: boolean;
}

/** LIST-EXTENDED return options (RFC 5258, RFC 6154, RFC 5819). */
export interface ListReturn {
  subscribed: boolean;
  children: boolean;
  specialUse: boolean;
  /** LIST-STATUS items, null when not asked for. */
  status: StatusItem[] | null;
}

export interface ListRequest {
  command: 'LIST';
  reference: string;
  /** One or more patterns with the wildcards % and *. */
  patterns: string[];
  selection: ListSelection;
  returns: ListReturn;
  /** The client used any LIST-EXTENDED syntax: answer with extended data such as CHILDINFO. */
  extended: boolean;
}

function readSelection(r: Reader): ListSelection {
  const selection: ListSelection = {
    subscribed: false,
    remote: false,
    recursiveMatch: false,
    specialUse: false,
  };
  r.expectChar(0x28, '"(" opening the selection options');
  if (!r.tryChar(0x29)) {
    do {
      const option = r.keyword('a selection option');
      if (option === 'SUBSCRIBED') selection.subscribed = true;
      else if (option === 'REMOTE') selection.remote = true;
      else if (option === 'RECURSIVEMATCH') selection.recursiveMatch = true;
      else if (option === 'SPECIAL-USE') selection.specialUse = true;
      else r.fail(`Unknown LIST selection option ${option}`);
    } while (r.trySp());
    r.expectChar(0x29, '")" closing the selection options');
  }
  if (selection.recursiveMatch && !selection.subscribed && !selection.specialUse) {
    r.fail('RECURSIVEMATCH needs another selection option such as SUBSCRIBED');
  }
  return selection;
}

function readReturn(r: Reader): ListReturn {
  const returns: ListReturn = { subscribed: false, children: false, specialUse: false, status: null };
  r.expectKeyword('RETURN');
  r.sp('RETURN');
  r.expectChar(0x28, '"(" opening the return options');
  if (r.tryChar(0x29)) return returns;
  do {
    const option = r.keyword('a return option');
    if (option === 'SUBSCRIBED') returns.subscribed = true;
    else if (option === 'CHILDREN') returns.children = true;
    else if (option === 'SPECIAL-USE') returns.specialUse = true;
    else if (option === 'STATUS') {
      r.sp('STATUS');
      returns.status = readStatusItems(r);
    } else r.fail(`Unknown LIST return option ${option}`);
  } while (r.trySp());
  r.expectChar(0x29, '")" closing the return options');
  return returns;
}

export function parseList(r: Reader): ListRequest {
  r.sp('LIST');
  let extended = false;
  let selection: ListSelection = {
    subscribed: false,
    remote: false,
    recursiveMatch: false,
    specialUse: false,
  };
  if (r.peek() === 0x28) {
    selection = readSelection(r);
    extended = true;
    r.sp('the selection options');
  }
  const reference = readMailbox(r, 'a reference name');
  r.sp('the reference name');
  const patterns: string[] = [];
  if (r.tryChar(0x28)) {
    extended = true;
    do patterns.push(readListMailbox(r));
    while (r.trySp());
    r.expectChar(0x29, '")" closing the mailbox patterns');
  } else {
    patterns.push(readListMailbox(r));
  }
  let returns: ListReturn = { subscribed: false, children: false, specialUse: false, status: null };
  if (r.trySp()) {
    returns = readReturn(r);
    extended = true;
  }
  r.expectEnd('LIST');
  return { command: 'LIST', reference, patterns, selection, returns, extended };
}
