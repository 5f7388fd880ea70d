import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeFindings, runFuzz } from '@correo/testkit/fuzz';

// The bounded run of make test: the committed seeds, then a fixed number of coverage-guided mutations
// from a fixed seed (the same inputs on every run). `make fuzz` runs the same target for longer.
test(
  'fuzz imap-command: seeds + 5,000 mutations, no crash, hang or unbounded allocation',
  { timeout: 120_000 },
  async (t) => {
    const report = await runFuzz({
      target: new URL('./fuzz/imap-command.fuzz.ts', import.meta.url),
      executions: 5_000,
    });
    t.diagnostic(
      `${report.executions} executions in ${report.seconds.toFixed(1)} s, corpus ${report.corpusSize}, features ${report.features}`,
    );
    assert.equal(report.findings.length, 0, describeFindings(report));
    assert.equal(report.executions, report.seeds + 5_000);
  },
);
