import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runFuzz } from '../src/fuzz/index.js';

// The fuzz runner finds what it is there to find: each planted target fails the way a real finding
// would, and the report carries the input that did it.
describe('fuzz runner', () => {
  test('coverage feedback reaches a bug three comparisons deep, and names the input', async () => {
    const report = await runFuzz({
      target: new URL('./planted/planted-crash.fuzz.ts', import.meta.url),
      executions: 20_000,
    });
    assert.equal(report.findings.length, 1);
    const [finding] = report.findings;
    assert.equal(finding!.kind, 'crash');
    assert.match(finding!.message, /planted bug/);
    assert.ok([...finding!.input.subarray(0, 3)].every((byte) => byte >= 0xf0));
    assert.ok(report.corpusSize > 1, 'inputs reaching new blocks were kept');
  });

  test('an input that never returns is a hang, caught by the watchdog', async () => {
    const report = await runFuzz({
      target: new URL('./planted/planted-hang.fuzz.ts', import.meta.url),
      executions: 10_000,
      hangMs: 3_000,
    });
    assert.equal(report.findings.length, 1);
    assert.equal(report.findings[0]!.kind, 'hang');
    assert.ok(report.findings[0]!.input.includes(0));
  });

  test('an input that makes the heap grow far beyond its size is unbounded allocation', async () => {
    const report = await runFuzz({
      target: new URL('./planted/planted-allocation.fuzz.ts', import.meta.url),
      executions: 10_000,
    });
    assert.equal(report.findings.length, 1);
    assert.equal(report.findings[0]!.kind, 'allocation');
    assert.equal(report.findings[0]!.input.length, 1);
  });

  test('the same seed replays the same inputs; no executions runs the seeds alone', async () => {
    const target = new URL('./planted/planted-crash.fuzz.ts', import.meta.url);
    const [a, b] = [
      await runFuzz({ target, executions: 300, seed: 7 }),
      await runFuzz({ target, executions: 300, seed: 7 }),
    ];
    assert.deepEqual([b.corpusSize, b.features], [a.corpusSize, a.features]);
    const seedsOnly = await runFuzz({ target, executions: 0 });
    assert.equal(seedsOnly.executions, seedsOnly.seeds);
  });
});
