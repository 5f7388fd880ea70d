import { readMailbox } from '../lexer/mailbox.js';
import { readModSeq, readNzNumber } from '../lexer/number.js';
import type { Reader } from '../lexer/reader.js';
import type { SequenceSet } from '../lexer/sequence-set.js';
import { readSequenceSet } from '../lexer/sequence-set.js';

/** The QRESYNC select parameter (RFC 7162 3.2.5): what the client already knows of the mailbox. */
export interface QresyncParams {
  uidValidity: number;
  modseq: bigint;
  knownUids: SequenceSet | null;
  /** Message numbers and the UIDs the client believes they have, to narrow VANISHED (EARLIER). */
  seqMatch: { sequences: SequenceSet; uids: SequenceSet } | null;
}

export interface SelectRequest {
  command: 'SELECT' | 'EXAMINE';
  mailbox: string;
  condstore: boolean;
  qresync: QresyncParams | null;
}

function readSeqMatch(r: Reader): NonNullable<QresyncParams['seqMatch']> {
  r.expectChar(0x28, '"(" opening the sequence match data');
  const sequences = readSequenceSet(r);
  r.sp('the known message numbers');
  const uids = readSequenceSet(r);
  r.expectChar(0x29, '")" closing the sequence match data');
  return { sequences, uids };
}

function readQresync(r: Reader): QresyncParams {
  r.sp('QRESYNC');
  r.expectChar(0x28, '"(" opening the QRESYNC parameters');
  const uidValidity = readNzNumber(r, 'a UIDVALIDITY');
  r.sp('the UIDVALIDITY');
  const modseq = readModSeq(r, false, 'a mod-sequence');
  let knownUids: SequenceSet | null = null;
  let seqMatch: QresyncParams['seqMatch'] = null;
  if (r.trySp()) {
    if (r.peek() === 0x28) seqMatch = readSeqMatch(r);
    else {
      knownUids = readSequenceSet(r);
      if (r.trySp()) seqMatch = readSeqMatch(r);
    }
  }
  r.expectChar(0x29, '")" closing the QRESYNC parameters');
  return { uidValidity, modseq, knownUids, seqMatch };
}

export function parseSelect(r: Reader, command: 'SELECT' | 'EXAMINE'): SelectRequest {
  r.sp(command);
  const mailbox = readMailbox(r, undefined, 'NONEXISTENT');
  let condstore = false;
  let qresync: QresyncParams | null = null;
  if (r.trySp()) {
    r.expectChar(0x28, '"(" opening the select parameters');
    do {
      const name = r.keyword('a select parameter');
      if (name === 'CONDSTORE') condstore = true;
      else if (name === 'QRESYNC') qresync = readQresync(r);
      else r.fail(`Unknown select parameter ${name}`);
    } while (r.trySp());
    r.expectChar(0x29, '")" closing the select parameters');
  }
  r.expectEnd(command);
  return { command, mailbox, condstore, qresync };
}
