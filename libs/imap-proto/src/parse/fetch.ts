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
  | 'MODSEQ';

export type FetchAttribute =
  | { kind: SimpleFetchItem }
  | { kind: 'BODY[]'; section: Section; partial: PartialRange | null; peek: boolean }
  | { kind: 'BINARY[]'; part: number[]; partial: PartialRange | null; peek: boolean }
  | { kind: 'BINARY.SIZE'; part: number[] };

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
  if (name === 'BODY.PEEK') r.fail('BODY.PEEK needs a section such as BODY.PEEK[]');
  if (!SIMPLE.has(name)) r.fail(`Unknown fetch item ${name}`);
  return { kind: name as SimpleFetchItem };
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
