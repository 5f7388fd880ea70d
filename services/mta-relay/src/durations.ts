const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "250ms", "30s", "5m", "2h", "5d" -> milliseconds; undefined when the text is not one of those. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNITS[match[2]!]!;
  return ms > 0 ? Math.round(ms) : undefined;
}

/** "1m,5m,15m" -> [60000, 300000, 900000]; undefined when any entry is not a duration. */
export function parseSchedule(text: string): number[] | undefined {
  const delays = text.split(',').map(parseDuration);
  return delays.length > 0 && delays.every((d) => d !== undefined) ? (delays as number[]) : undefined;
}

/** The wait after the `attempts`-th failed attempt: the schedule's entry, its last entry repeating. */
export function retryDelay(schedule: number[], attempts: number): number {
  return schedule[Math.min(Math.max(attempts, 1), schedule.length) - 1]!;
}
