import { clientBlock } from '@correo/auth';
import type { Limits } from '@correo/limits';

/** One rate limit: at most `ceiling` per `windowMs` under `key`, across pods; ceiling 0 is off. */
export interface RateWindow {
  /** The label of correo_smtp_limit_hits_total and the decision reason: 'ip-messages-minute'. */
  limit: string;
  key: string;
  ceiling: number;
  windowMs: number;
}

/**
 * Counts one more against every window, or nothing when one of them is full: returns the full one's
 * name, null when all had room. One atomic incrementBelow per window length, so concurrent sessions
 * on several pods never pass a ceiling together; what was refused is not counted, so a client that
 * stops is admitted again when the window ends. Throws when the limits backend is unreachable (the
 * caller fails open).
 */
export async function countWithin(limits: Limits, windows: readonly RateWindow[]): Promise<string | null> {
  const byLength = new Map<number, RateWindow[]>();
  for (const window of windows) {
    if (window.ceiling <= 0) continue;
    byLength.set(window.windowMs, [...(byLength.get(window.windowMs) ?? []), window]);
  }
  // Shortest windows first: a burst is refused by its minute before it uses up the hour.
  for (const [windowMs, group] of [...byLength].sort(([a], [b]) => a - b)) {
    const counted = await limits.incrementBelow(
      group.map(({ key, ceiling }) => ({ key, ceiling })),
      windowMs,
    );
    if (!counted.admitted) return group[counted.index]!.limit;
  }
  return null;
}

export const MINUTE = 60_000;
export const HOUR = 3_600_000;

/** Per-minute and per-hour ceilings for one client address and for its block (/24, IPv6 /64). */
export interface ClientCeilings {
  ipPerMinute: number;
  ipPerHour: number;
  blockPerMinute: number;
  blockPerHour: number;
}

/**
 * The four windows of `what` (connections, messages) for a client: named like
 * 'block-messages-hour', keyed `smtp:<what>:<ip or block>` (minute) and `smtp:<what>-hour:...`.
 */
export function clientWindows(what: string, ip: string, ceilings: ClientCeilings): RateWindow[] {
  const block = clientBlock(ip);
  return [
    {
      limit: `ip-${what}-minute`,
      key: `smtp:${what}:${ip}`,
      ceiling: ceilings.ipPerMinute,
      windowMs: MINUTE,
    },
    { limit: `ip-${what}-hour`, key: `smtp:${what}-hour:${ip}`, ceiling: ceilings.ipPerHour, windowMs: HOUR },
    {
      limit: `block-${what}-minute`,
      key: `smtp:${what}:${block}`,
      ceiling: ceilings.blockPerMinute,
      windowMs: MINUTE,
    },
    {
      limit: `block-${what}-hour`,
      key: `smtp:${what}-hour:${block}`,
      ceiling: ceilings.blockPerHour,
      windowMs: HOUR,
    },
  ];
}
