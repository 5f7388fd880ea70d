import { fuzzTarget } from '../../src/fuzz/index.js';

/**
 * A parser with a bug three branches deep. Each branch passes for 1 byte value in 16; blind mutation
 * would need all three at once, coverage feedback keeps each step it reaches.
 */
export default fuzzTarget({
  coverage: ['/testkit/test/planted/planted-crash'],
  run(input) {
    if (input.length >= 3 && input[0]! >= 0xf0) {
      if (input[1]! >= 0xf0) {
        if (input[2]! >= 0xf0) throw new TypeError('planted bug');
      }
    }
  },
});
