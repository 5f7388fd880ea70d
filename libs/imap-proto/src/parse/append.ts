import { readZonedDateTime } from '../lexer/date.js';
import { readFlagList } from '../lexer/flags.js';
import { readMailbox } from '../lexer/mailbox.js';
import type { Reader } from '../lexer/reader.js';
import { readLiteral } from '../lexer/string.js';

export interface AppendMessage {
  /** Null when the client gave no flag list. */
  flags: string[] | null;
  /** Null when the client gave no date-time: the server uses the time of delivery. */
  internalDate: Date | null;
  /** The zone of the given date-time, in minutes east of UTC; absent without one. */
  internalZone?: number;
  content: Buffer;
  /** Sent as literal8 (RFC 3516): the content may hold NUL bytes. */
  binary: boolean;
}

export interface AppendRequest {
  command: 'APPEND';
  mailbox: string;
  /** One message, or several with MULTIAPPEND (RFC 3502): stored all or none. */
  messages: AppendMessage[];
}

function readMessage(r: Reader): AppendMessage {
  let flags: string[] | null = null;
  let internalDate: Date | null = null;
  let zone: { internalZone: number } | object = {};
  if (r.peek() === 0x28) {
    flags = readFlagList(r);
    r.sp('the flag list');
  }
  if (r.peek() === 0x22) {
    const dateTime = readZonedDateTime(r);
    internalDate = dateTime.instant;
    zone = { internalZone: dateTime.zone };
    r.sp('the date-time');
  }
  // RFC 6855 section 4: UTF8 (literal8) carries a message with UTF-8 headers.
  if (r.tryKeyword('UTF8')) {
    r.sp('UTF8');
    r.expectChar(0x28, '"(" after UTF8');
    if (r.peek() !== 0x7e) r.fail(`Expected a binary literal (~{n}) after UTF8 (, found ${r.describeHere()}`);
    const { data } = readLiteral(r, true);
    r.expectChar(0x29, '")" after the UTF8 message');
    return { flags, internalDate, ...zone, content: data, binary: true };
  }
  if (r.peek() !== 0x7b && r.peek() !== 0x7e)
    r.fail(`Expected the message as a literal, found ${r.describeHere()}`);
  const { data, binary } = readLiteral(r, true);
  return { flags, internalDate, ...zone, content: data, binary };
}

export function parseAppend(r: Reader): AppendRequest {
  r.sp('APPEND');
  const mailbox = readMailbox(r, undefined, 'NONEXISTENT');
  const messages: AppendMessage[] = [];
  while (r.trySp()) messages.push(readMessage(r));
  if (messages.length === 0) r.fail('APPEND needs a message');
  r.expectEnd('APPEND');
  return { command: 'APPEND', mailbox, messages };
}
