/**
 * The mda's background loops (housekeeping, spam training): `work` runs one call at a time in this
 * process (a caller arriving mid-run gets a run of its own after it), every `intervalMs` after the
 * previous run ended (0: only on demand), until close(), which waits for the run in progress.
 */
export interface Periodic<A, T> {
  runOnce(arg?: A): Promise<T>;
  close(): Promise<void>;
}

export function startPeriodic<A, T>(
  intervalMs: number,
  work: (arg?: A) => Promise<T>,
  onError: (error: unknown) => void,
): Periodic<A, T> {
  let queue: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function runOnce(arg?: A): Promise<T> {
    const run = queue.then(() => work(arg));
    queue = run.catch(() => undefined);
    return run;
  }

  function schedule() {
    if (closed || intervalMs <= 0) return;
    timer = setTimeout(() => {
      runOnce().catch(onError).finally(schedule);
    }, intervalMs);
    timer.unref();
  }
  schedule();

  return {
    runOnce,
    async close() {
      closed = true;
      clearTimeout(timer);
      await queue;
    },
  };
}
