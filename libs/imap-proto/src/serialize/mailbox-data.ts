import { atom, num, untagged } from './encoder.js';
import { compressSequenceSet } from './sequence-set.js';

/** `* FLAGS (\Answered \Flagged ...)`: the flags defined in the selected mailbox. */
export function flagsResponse(flags: string[]): Buffer {
  return untagged([atom('FLAGS'), flags.map(atom)]);
}

/** `* n EXISTS`. */
export function existsResponse(count: number): Buffer {
  return untagged([num(count), atom('EXISTS')]);
}

/** `* n RECENT` (IMAP4rev1 only). */
export function recentResponse(count: number): Buffer {
  return untagged([num(count), atom('RECENT')]);
}

/** `* n EXPUNGE`: message number n is gone, and later numbers shift down by one. */
export function expungeResponse(sequence: number): Buffer {
  return untagged([num(sequence), atom('EXPUNGE')]);
}

/** `* VANISHED [(EARLIER)] uid-set` (RFC 7162 QRESYNC). */
export function vanishedResponse(uids: Iterable<number>, earlier: boolean): Buffer {
  const set = atom(compressSequenceSet(uids));
  return untagged(earlier ? [atom('VANISHED'), [atom('EARLIER')], set] : [atom('VANISHED'), set]);
}
