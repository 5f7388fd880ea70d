import { readMailbox } from '../lexer/mailbox.js';
import { readNumber } from '../lexer/number.js';
import type { Reader } from '../lexer/reader.js';
import { DQUOTE } from '../lexer/reader.js';
import { decodeUtf8, readAstring, readLiteral, readQuoted } from '../lexer/string.js';

/** GETMETADATA's DEPTH option (RFC 5464 4.2.2): the entry only, its children, or everything below it. */
export type MetadataDepth = '0' | '1' | 'infinity';

export interface GetMetadataRequest {
  command: 'GETMETADATA';
  /** "" for server annotations. */
  mailbox: string;
  /** Values longer than this are left out (and counted in [METADATA LONGENTRIES n]); null: no limit. */
  maxSize: number | null;
  depth: MetadataDepth;
  /** Entry names, lowercased (entry names are case-insensitive, RFC 5464 3.2). */
  entries: string[];
}

export interface MetadataEntryValue {
  entry: string;
  /** null (NIL) deletes the entry. */
  value: Buffer | null;
}

export interface SetMetadataRequest {
  command: 'SETMETADATA';
  mailbox: string;
  values: MetadataEntryValue[];
}

/**
 * An entry name (RFC 5464 3.2): "/private" or "/shared", then slash-separated parts, no "*" or "%", no
 * empty part, no trailing slash, no control characters. `root`: "/private" and "/shared" themselves are
 * allowed (GETMETADATA with DEPTH reads below them); SETMETADATA needs a name under one of them.
 */
export function readMetadataEntry(r: Reader, root: boolean): string {
  const raw = decodeUtf8(r, readAstring(r, 'a metadata entry name'), 'The entry name').toLowerCase();
  const valid = validMetadataEntry(raw, root);
  if (valid !== null) r.fail(`Invalid metadata entry name: ${valid}`);
  return raw;
}

/** Entry names are short paths; a longer one is refused rather than stored (RFC 5464 leaves the limit to us). */
const MAX_ENTRY_NAME = 1024;

/** null when `entry` is a valid name (see readMetadataEntry), else why not. */
export function validMetadataEntry(entry: string, root: boolean): string | null {
  const lower = entry.toLowerCase();
  if (lower.length > MAX_ENTRY_NAME) return `it is longer than ${MAX_ENTRY_NAME} characters`;
  if (!(lower.startsWith('/private') || lower.startsWith('/shared')))
    return 'it must start with /private or /shared';
  const parts = lower.split('/').slice(1);
  if (!root && parts.length < 2) return 'it names no entry below /private or /shared';
  if (parts[0] !== 'private' && parts[0] !== 'shared') return 'it must start with /private or /shared';
  if (parts.some((part) => part === '')) return 'it has an empty part or a trailing slash';
  // eslint-disable-next-line no-control-regex
  if (/[*%\x00-\x1f\x7f]/.test(lower)) return 'it holds "*", "%" or a control character';
  return null;
}

/** entry / "(" entry *(SP entry) ")" */
function readEntries(r: Reader): string[] {
  if (!r.tryChar(0x28)) return [readMetadataEntry(r, true)];
  const entries: string[] = [];
  do entries.push(readMetadataEntry(r, true));
  while (r.trySp());
  r.expectChar(0x29, '")" closing the entry names');
  return entries;
}

/** GETMETADATA [SP "(" option *(SP option) ")"] SP mailbox SP entries (RFC 5464 4.2). */
export function parseGetMetadata(r: Reader): GetMetadataRequest {
  r.sp('GETMETADATA');
  let maxSize: number | null = null;
  let depth: MetadataDepth = '0';
  if (r.tryChar(0x28)) {
    do {
      const option = r.keyword('MAXSIZE or DEPTH');
      r.sp(option);
      if (option === 'MAXSIZE') maxSize = readNumber(r, 'the MAXSIZE value');
      else if (option === 'DEPTH') {
        if (r.tryKeyword('infinity')) depth = 'infinity';
        else if (r.tryChar(0x30)) depth = '0';
        else if (r.tryChar(0x31)) depth = '1';
        else r.fail(`DEPTH is 0, 1 or infinity, not ${r.describeHere()}`);
      } else r.fail(`Unknown GETMETADATA option ${option.slice(0, 40)}`);
    } while (r.trySp());
    r.expectChar(0x29, '")" closing the GETMETADATA options');
    r.sp('the GETMETADATA options');
  }
  const mailbox = readMailbox(r, undefined, 'NONEXISTENT');
  r.sp('the mailbox name');
  const entries = readEntries(r);
  r.expectEnd('GETMETADATA');
  return { command: 'GETMETADATA', mailbox, maxSize, depth, entries };
}

/** value: nstring / literal8 (RFC 5464 5). */
function readValue(r: Reader): Buffer | null {
  if (r.tryKeyword('NIL')) return null;
  if (r.peek() === DQUOTE) return readQuoted(r);
  return readLiteral(r, true).data;
}

/** SETMETADATA SP mailbox SP "(" entry SP value *(SP entry SP value) ")" (RFC 5464 4.3). */
export function parseSetMetadata(r: Reader): SetMetadataRequest {
  r.sp('SETMETADATA');
  const mailbox = readMailbox(r, undefined, 'NONEXISTENT');
  r.sp('the mailbox name');
  r.expectChar(0x28, '"(" opening the entries and values');
  const values: MetadataEntryValue[] = [];
  do {
    const entry = readMetadataEntry(r, false);
    r.sp('the entry name');
    values.push({ entry, value: readValue(r) });
  } while (r.trySp());
  r.expectChar(0x29, '")" closing the entries and values');
  r.expectEnd('SETMETADATA');
  return { command: 'SETMETADATA', mailbox, values };
}
