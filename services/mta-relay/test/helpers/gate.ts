/** A gate at one point of the remote's SMTP dialogue: counts who reached it and holds them there. */
export interface Gate {
  reached: () => number;
  /** Resolves once `count` sessions have reached the gate. */
  waitFor(count: number): Promise<void>;
  /** Lets every held session and every later one through. */
  open(): void;
  /** What the remote's hook awaits: counted, then held until open(). */
  pass(): Promise<void>;
}

export function gate(): Gate {
  let count = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const waiters: { count: number; resolve: () => void }[] = [];
  return {
    reached: () => count,
    waitFor(target) {
      if (count >= target) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count: target, resolve }));
    },
    open: () => release(),
    async pass() {
      count += 1;
      for (const waiter of waiters.filter((w) => w.count <= count)) waiter.resolve();
      await released;
    },
  };
}
