import { readModSeq } from '../lexer/number.js';
import type { Reader } from '../lexer/reader.js';
import type { SequenceSet } from '../lexer/sequence-set.js';
import { readSequenceSet } from '../lexer/sequence-set.js';
import type { PartialRange, Section } from './section.js';
import { readBinarySection, readPartial, readSection } from './section.js';

export type SimpleFetchItem =
  | 'ENVELOPE'
  | 'FLAGS'
  | 'INTERNALDATE'
  | 'RFC822'
  | 'RFC822.HEADER'
  | 'RFC822.SIZE'
  | 'RFC822.TEXT'
  | 'BODY'
  | 'BODYSTRUCTURE'
  | 'UID'
  | 'MODSEQ'
  /** SAVEDATE (RFC 8514): when the message was put in this mailbox. */
  | 'SAVEDATE'
  /** OBJECTID (RFC 8474). */
  | 'EMAILID'
  | 'THREADID';

export type FetchAttribute =
  | { kind: SimpleFetchItem }
  | { kind: 'BODY[]'; section: Section; partial: PartialRange | null; peek: boolean }
  | { kind: 'BINARY[]'; part: number[]; partial: PartialRange | null; peek: boolean }
  | { kind: 'BINARY.SIZE'; part: number[] }
  /** PREVIEW (RFC 8970); LAZY: NIL is fine when the preview is not at hand. */
  | { kind: 'PREVIEW'; lazy: boolean };

export interface FetchRequest {
  command: 'FETCH';
  uid: boolean;
  set: SequenceSet;
  /** Macros (ALL, FAST, FULL) arrive expanded. */
  attributes: FetchAttribute[];
  /** CONDSTORE: only messages whose mod-sequence is above this. */
  changedSince: bigint | null;
  /** QRESYNC: also report expunged UIDs of the set as VANISHED (EARLIER). Only with UID FETCH and CHANGEDSINCE. */
  vanished: boolean;
}

const SIMPLE: ReadonlySet<string> = new Set<SimpleFetchItem>([
  'ENVELOPE',
  'FLAGS',
  'INTERNALDATE',
  'RFC822',
  'RFC822.HEADER',
  'RFC822.SIZE',
  'RFC822.TEXT',
  'BODY',
  'BODYSTRUCTURE',
  'UID',
  'MODSEQ',
  'SAVEDATE',
  'EMAILID',
  'THREADID',
]);

const MACROS: Record<string, SimpleFetchItem[]> = {
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

function readAttribute(r: Reader): FetchAttribute {
  const name = r.keyword('a fetch item such as FLAGS');
  if ((name === 'BODY' || name === 'BODY.PEEK') && r.peek() === 0x5b) {
    const section = readSection(r);
    return { kind: 'BODY[]', section, partial: readPartial(r), peek: name === 'BODY.PEEK' };
  }
  if (name === 'BINARY' || name === 'BINARY.PEEK') {
    const part = readBinarySection(r);
    return { kind: 'BINARY[]', part, partial: readPartial(r), peek: name === 'BINARY.PEEK' };
  }
  if (name === 'BINARY.SIZE') return { kind: 'BINARY.SIZE', part: readBinarySection(r) };
  if (name === 'PREVIEW') return { kind: 'PREVIEW', lazy: readPreviewModifiers(r) };
  if (name === 'BODY.PEEK') r.fail('BODY.PEEK needs a section such as BODY.PEEK[]');
  if (!SIMPLE.has(name)) r.fail(`Unknown fetch item ${name}`);
  return { kind: name as SimpleFetchItem };
}

/**
 * [SP "(" preview-mod *(SP preview-mod) ")"] with LAZY the one modifier (RFC 8970 7). A lone
 * `FETCH 1 PREVIEW (CHANGEDSINCE 4)` has fetch modifiers after it: only "(LAZY" starts preview ones.
 */
function readPreviewModifiers(r: Reader): boolean {
  const ahead = r.bytes
    .subarray(r.pos, r.pos + 7)
    .toString('latin1')
    .toUpperCase();
  if (ahead !== ' (LAZY)' && ahead !== ' (LAZY ') return false;
  r.sp('PREVIEW');
  r.expectChar(0x28, '"(" opening the preview modifiers');
  let lazy = false;
  do {
    const modifier = r.keyword('a preview modifier such as LAZY');
    if (modifier !== 'LAZY') r.fail(`Unknown preview modifier ${modifier}`);
    lazy = true;
  } while (r.trySp());
  r.expectChar(0x29, '")" closing the preview modifiers');
  return lazy;
}

function readModifiers(r: Reader, uid: boolean): { changedSince: bigint | null; vanished: boolean } {
  let changedSince: bigint | null = null;
  let vanished = false;
  r.expectChar(0x28, '"(" opening the fetch modifiers');
  do {
    const name = r.keyword('a fetch modifier');
    if (name === 'CHANGEDSINCE') {
      r.sp('CHANGEDSINCE');
      changedSince = readModSeq(r, true);
    } else if (name === 'VANISHED') vanished = true;
    else r.fail(`Unknown fetch modifier ${name}`);
  } while (r.trySp());
  r.expectChar(0x29, '")" closing the fetch modifiers');
  if (vanished && (!uid || changedSince === null)) r.fail('VANISHED needs UID FETCH with CHANGEDSINCE');
  return { changedSince, vanished };
}

export function parseFetch(r: Reader, uid: boolean): FetchRequest {
  r.sp('FETCH');
  const set = readSequenceSet(r);
  r.sp('the message set');
  const attributes: FetchAttribute[] = [];
  if (r.tryChar(0x28)) {
    do attributes.push(readAttribute(r));
    while (r.trySp());
    r.expectChar(0x29, '")" closing the fetch items');
  } else {
    const macro = Object.keys(MACROS).find((name) => r.tryKeyword(name));
    if (macro) attributes.push(...MACROS[macro]!.map((kind) => ({ kind })));
    else attributes.push(readAttribute(r));
  }
  let modifiers = { changedSince: null as bigint | null, vanished: false };
  if (r.trySp()) modifiers = readModifiers(r, uid);
  r.expectEnd('FETCH');
  return { command: 'FETCH', uid, set, attributes, ...modifiers };
}

/** "(" fetch-att *(SP fetch-att) ")": NOTIFY's MessageNew attributes (RFC 5465 5.2). */
export function readFetchAttributes(r: Reader): FetchAttribute[] {
  const attributes: FetchAttribute[] = [];
  r.expectChar(0x28, '"(" opening the fetch items');
  do attributes.push(readAttribute(r));
  while (r.trySp());
  r.expectChar(0x29, '")" closing the fetch items');
  return attributes;
}
