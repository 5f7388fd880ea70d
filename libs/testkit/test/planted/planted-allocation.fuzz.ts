import { fuzzTarget } from '../../src/fuzz/index.js';

const kept: Buffer[] = [];

/** A parser that keeps 64 MiB for a one-byte input. */
export default fuzzTarget({
  coverage: ['/testkit/test/planted/planted-allocation'],
  run(input) {
    if (input.length === 1) kept.push(Buffer.alloc(64 * 1024 * 1024, 1));
  },
});
