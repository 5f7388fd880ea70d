import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeFindings, runFuzz } from '@correo/testkit/fuzz';

// The bounded run of make test (fixed seed, fixed count); `make fuzz` runs the same targets for longer.
// smtp-server itself frames the commands; these targets are the code of ours behind it.
describe('fuzz smtp-ingress: no crash, hang or unbounded allocation', () => {
  for (const [name, executions] of [
    ['smtp-data', 1_500],
    ['smtp-envelope', 3_000],
  ] as const) {
    test(`${name}: seeds + ${executions} mutations`, { timeout: 120_000 }, async (t) => {
      const report = await runFuzz({
        target: new URL(`./fuzz/${name}.fuzz.ts`, import.meta.url),
        executions,
      });
      t.diagnostic(
        `${report.executions} executions in ${report.seconds.toFixed(1)} s, corpus ${report.corpusSize}, features ${report.features}`,
      );
      assert.equal(report.findings.length, 0, describeFindings(report));
      assert.equal(report.executions, report.seeds + executions);
    });
  }
});
