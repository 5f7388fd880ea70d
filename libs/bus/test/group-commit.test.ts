import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommit } from '../src/group-commit.js';

/** A commit the test settles by hand. */
function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('inFlight() is the commit at the backend now: settled when it is done, committed or failed', async () => {
  const commits: { entries: string[]; done: ReturnType<typeof deferred> }[] = [];
  const group = new GroupCommit<string>({
    commit: (entries) => {
      const done = deferred();
      commits.push({ entries, done });
      return done.promise;
    },
  });
  assert.equal(group.inFlight(), undefined, 'nothing in flight on an idle group');

  const first = group.submit('a');
  const inFlight = group.inFlight();
  assert.ok(inFlight, 'the first submit is at the backend at once');
  const second = group.submit('b');
  const third = group.submit('c');
  let landed = false;
  void inFlight.then(() => (landed = true));
  await Promise.resolve();
  assert.equal(landed, false, 'not settled while its commit is pending');

  commits[0]!.done.resolve();
  await inFlight;
  await first;
  // b and c waited behind a and now go together: the next commit in flight.
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(commits[1]?.entries, ['b', 'c']);
  const next = group.inFlight();
  assert.ok(next && next !== inFlight, 'the next commit is the one in flight');

  // A failing commit settles inFlight() too (the waiter only wants to know it is over); the
  // entries are then retried one by one, as before.
  commits[1]!.done.reject(new Error('flush failed'));
  await next;
  await new Promise((resolve) => setImmediate(resolve));
  for (const retry of commits.slice(2)) retry.done.resolve();
  await Promise.all([second, third]);
  await group.idle();
  assert.equal(group.inFlight(), undefined, 'nothing in flight once idle');
});
