import type { Random } from './random.js';

/** Bytes that sit on parser edges: line ends, NUL, high bit, quotes, digits at overflow points. */
const INTERESTING = [
  '\r\n',
  '\n',
  '\r',
  '\0',
  '\xff',
  '\x80',
  '"',
  '\\',
  ' ',
  '\t',
  '0',
  '4294967295',
  '4294967296',
  '99999999999999999999',
  '-1',
].map((text) => Buffer.from(text, 'latin1'));

/**
 * Havoc-style byte mutations as AFL and libFuzzer use them: flip, insert dictionary words, delete,
 * duplicate, repeat a slice many times (the cheap way to reach size limits), truncate, and splice in
 * a piece of another corpus entry.
 */
export class Mutator {
  private readonly dictionary: Buffer[];

  constructor(
    private readonly random: Random,
    dictionary: string[],
    private readonly maxBytes: number,
  ) {
    this.dictionary = [...dictionary.map((word) => Buffer.from(word, 'latin1')), ...INTERESTING];
  }

  mutate(parent: Buffer, other: Buffer): Buffer {
    let bytes = parent;
    const rounds = 1 + this.random.below(this.random.below(8) + 1);
    for (let i = 0; i < rounds; i++) bytes = this.once(bytes, other);
    return bytes.length > this.maxBytes ? bytes.subarray(0, this.maxBytes) : bytes;
  }

  private once(bytes: Buffer, other: Buffer): Buffer {
    const r = this.random;
    const at = r.below(bytes.length + 1);
    switch (r.below(9)) {
      case 0: {
        if (bytes.length === 0) return Buffer.from([r.below(256)]);
        const copy = Buffer.from(bytes);
        copy[Math.min(at, copy.length - 1)] = r.below(256);
        return copy;
      }
      case 1: {
        if (bytes.length === 0) return bytes;
        const copy = Buffer.from(bytes);
        copy[Math.min(at, copy.length - 1)]! ^= 1 << r.below(8);
        return copy;
      }
      case 2:
      case 3:
        return splice(bytes, at, 0, r.pick(this.dictionary));
      case 4:
        return splice(bytes, at, 1 + r.below(16), Buffer.alloc(0));
      case 5: {
        const length = 1 + r.below(32);
        return splice(bytes, at, 0, bytes.subarray(at, at + length));
      }
      case 6: {
        // Long runs find limits and quadratic paths; sized to stay under maxBytes most of the time.
        const piece = bytes.subarray(at, at + 1 + r.below(16));
        const times =
          2 + r.below(r.below(2) === 0 ? 64 : Math.max(2, this.maxBytes / Math.max(1, piece.length)));
        return splice(bytes, at, 0, Buffer.concat(Array<Buffer>(times).fill(piece)));
      }
      case 7:
        return bytes.subarray(0, at);
      default: {
        const from = r.below(other.length + 1);
        return splice(bytes, at, r.below(8), other.subarray(from, from + 1 + r.below(64)));
      }
    }
  }
}

function splice(bytes: Buffer, at: number, remove: number, insert: Buffer): Buffer {
  return Buffer.concat([bytes.subarray(0, at), insert, bytes.subarray(at + remove)]);
}
