import { fuzzTarget } from '../../src/fuzz/index.js';

/** A parser that never returns once it sees a NUL. */
export default fuzzTarget({
  coverage: ['/testkit/test/planted/planted-hang'],
  run(input) {
    let spins = 0;
    while (input.includes(0)) spins++;
    return void spins;
  },
});
