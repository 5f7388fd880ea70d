import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeFindings, runFuzz, targetName } from './runner.js';

/**
 * The bounded run of `make test` as one node:test test: the committed seeds, then `executions`
 * coverage-guided mutations from a fixed seed; any finding fails it with the input to add to the
 * corpus. `make fuzz` runs the same target for longer.
 */
export function fuzzTest(target: URL, executions: number): void {
  const title = `fuzz ${targetName(target)}: seeds + ${executions} mutations, no crash, hang or unbounded allocation`;
  test(title, { timeout: 300_000 }, async (t) => {
    const report = await runFuzz({ target, executions });
    t.diagnostic(
      `${report.executions} executions in ${report.seconds.toFixed(1)} s, corpus ${report.corpusSize}, ` +
        `coverage features ${report.features}`,
    );
    assert.equal(report.findings.length, 0, describeFindings(report));
    assert.equal(report.executions, report.seeds + executions);
  });
}
