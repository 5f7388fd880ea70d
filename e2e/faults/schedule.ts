/**
 * The seeded fault schedule: the same seed gives the same faults at the same offsets, so a run that
 * found something is run again with its seed (printed at the start).
 */

/** mulberry32: a small seeded PRNG, enough to pick times and targets (not for anything secret). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PlannedFault {
  /** Milliseconds after the load starts. */
  atMs: number;
  /** A key of the run's fault catalogue ("kill smtp-ingress#1", "restart postgres"...). */
  fault: string;
  /** How long it stays injected before it is healed (a killed pod is restarted after it). */
  downMs: number;
}

/**
 * Faults from `catalogue` one after another over `durationMs`: each starts `gapMs` (a random span
 * of [min, max]) after the previous one was healed or, when the schedule is planned ahead, after it
 * was due. Every fault of the catalogue comes once (shuffled) before any comes again, so even a
 * short run meets each kind.
 */
export function planFaults(
  seed: number,
  catalogue: { name: string; downMs: [number, number] }[],
  durationMs: number,
  gapMs: [number, number],
): PlannedFault[] {
  const random = seededRandom(seed);
  const between = ([min, max]: [number, number]) => Math.round(min + random() * (max - min));
  const planned: PlannedFault[] = [];
  let deck: typeof catalogue = [];
  let at = between(gapMs) / 2;
  while (at < durationMs) {
    if (deck.length === 0) {
      deck = [...catalogue];
      for (let i = deck.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [deck[i], deck[j]] = [deck[j]!, deck[i]!];
      }
    }
    const next = deck.pop()!;
    const downMs = between(next.downMs);
    planned.push({ atMs: at, fault: next.name, downMs });
    at += downMs + between(gapMs);
  }
  return planned;
}
