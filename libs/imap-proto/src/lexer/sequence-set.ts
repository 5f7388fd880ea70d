import { readNzNumber } from './number.js';
import type { Reader } from './reader.js';

/** A message number or UID; "*" is the largest one in the mailbox. */
export type SeqNumber = number | '*';

export interface SequenceRange {
  /** As the client wrote it: start may be larger than end ("5:2" is "2:5"). A single number has start === end. */
  start: SeqNumber;
  end: SeqNumber;
}

/** sequence-set, or "$": the result saved by SEARCH RETURN (SAVE) (RFC 5182). */
export type SequenceSet = { kind: 'set'; ranges: SequenceRange[] } | { kind: 'saved' };

function readSeqNumber(r: Reader): SeqNumber {
  if (r.tryChar(0x2a)) return '*';
  return readNzNumber(r, 'a message number, a UID or "*"');
}

export function readSequenceSet(r: Reader): SequenceSet {
  if (r.tryChar(0x24)) return { kind: 'saved' };
  const ranges: SequenceRange[] = [];
  do {
    const start = readSeqNumber(r);
    const end = r.tryChar(0x3a) ? readSeqNumber(r) : start;
    ranges.push({ start, end });
  } while (r.tryChar(0x2c));
  return { kind: 'set', ranges };
}

/**
 * The set as sorted, disjoint, inclusive [low, high] ranges, with "*" read as `largest` (the highest
 * message number or UID in the mailbox). An empty mailbox (largest 0) resolves "*" to nothing.
 */
export function resolveSequenceSet(
  set: { ranges: SequenceRange[] },
  largest: number,
): Array<[low: number, high: number]> {
  const ranges: Array<[number, number]> = [];
  for (const { start, end } of set.ranges) {
    const a = start === '*' ? largest : start;
    const b = end === '*' ? largest : end;
    if (a === 0 || b === 0) continue;
    ranges.push(a <= b ? [a, b] : [b, a]);
  }
  ranges.sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1] + 1) last[1] = Math.max(last[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  return merged;
}

/** True when n (>= 1) is in the set; `largest` gives "*" its value. */
export function sequenceSetHas(set: { ranges: SequenceRange[] }, n: number, largest: number): boolean {
  for (const { start, end } of set.ranges) {
    const a = start === '*' ? largest : start;
    const b = end === '*' ? largest : end;
    if (n >= Math.min(a, b) && n <= Math.max(a, b)) return true;
  }
  return false;
}
