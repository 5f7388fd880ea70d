export { fuzzTarget, type FuzzTarget } from './target.js';
export { runFuzz, describeFindings, seedsDirOf, targetName } from './runner.js';
export type { FuzzFinding, FuzzReport, FuzzRunOptions } from './runner.js';
export { Mutator } from './mutator.js';
export { Random } from './random.js';
export { fuzzTest } from './fuzz-test.js';
