import type { SeqNumber, SequenceSet } from '../lexer/sequence-set.js';

function runs(numbers: number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < numbers.length) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    parts.push(j === i ? String(numbers[i]) : `${numbers[i]}:${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Message numbers or UIDs as a short sequence-set: [1,2,3,4,5,7,9,10] -> "1:5,7,9:10" (sorted, deduplicated). */
export function compressSequenceSet(numbers: Iterable<number>): string {
  return runs([...new Set(numbers)].sort((a, b) => a - b));
}

/**
 * Keeps the given order, joining only ascending runs: for COPYUID, whose source and destination sets
 * must pair up element by element (RFC 4315).
 */
export function compressInOrder(numbers: number[]): string {
  return runs(numbers);
}

function seq(n: SeqNumber): string {
  return String(n);
}

/** A parsed sequence-set written back as the client could have sent it. */
export function formatSequenceSet(set: SequenceSet): string {
  if (set.kind === 'saved') return '$';
  return set.ranges
    .map((r) => (r.start === r.end ? seq(r.start) : `${seq(r.start)}:${seq(r.end)}`))
    .join(',');
}
