/**
 * One fuzz target: a module under `<package>/test/fuzz/<name>.fuzz.ts` whose default export is a
 * FuzzTarget; its committed seeds live in `<package>/test/fuzz/corpus/<name>/` (one input per file).
 */
export interface FuzzTarget {
  /** Module paths (substrings of their URLs) whose block coverage decides which inputs to keep. */
  coverage: string[];
  /** Protocol words and delimiters the mutator splices in (keywords, `{5}`, `--boundary`, ...). */
  dictionary?: string[];
  /** The largest input the mutator builds (default 64 KiB). */
  maxInputBytes?: number;
  /**
   * Heap growth one input may cause: floorBytes + perInputByte x input length (defaults 16 MiB and
   * 64). A parser that keeps or builds far more than its input is unbounded allocation.
   */
  allocation?: { floorBytes: number; perInputByte: number };
  /**
   * Runs one input through the code under test. It catches the errors the code documents for bad
   * input (ParseError, a refused reply) and checks its invariants; anything it throws is a finding.
   */
  run(input: Buffer): void | Promise<void>;
}

/** Identity helper so a target module is type-checked where it is written. */
export function fuzzTarget(target: FuzzTarget): FuzzTarget {
  return target;
}
