// CPU time of processes from Linux /proc/PID/stat, for the benches' "CPU per message / per cycle"
// columns (one reader instead of one per bench).
import { readdir, readFile } from 'node:fs/promises';

/** USER_HZ is 100 on Linux: /proc counts CPU time in ticks of 10 ms. */
const TICK_MS = 10;

interface ProcessStat {
  ppid: number;
  /** The program name (comm), e.g. node, postgres, imap, auth. */
  name: string;
  /** utime + stime, ms. */
  own: number;
  /** cutime + cstime, ms: the process's children already reaped. */
  reaped: number;
}

/** One /proc/PID/stat, or null for a process that is gone. */
async function processStat(pid: number | string): Promise<ProcessStat | null> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  const close = text?.lastIndexOf(')') ?? -1;
  if (!text || close < 0) return null;
  // The name may hold spaces: fields are counted after its closing parenthesis ("state ppid ... utime
  // stime cutime cstime" are the 3rd, 4th, 14th-17th of the whole line).
  const fields = text.slice(close + 2).split(' ');
  return {
    ppid: Number(fields[1]),
    name: text.slice(text.indexOf('(') + 1, close),
    own: (Number(fields[11]) + Number(fields[12])) * TICK_MS,
    reaped: (Number(fields[13]) + Number(fields[14])) * TICK_MS,
  };
}

/** utime + stime of one process, ms (0 when it is gone). */
export async function processCpuMs(pid: number | 'self'): Promise<number> {
  return (await processStat(pid))?.own ?? 0;
}

/** cutime + cstime of this process, ms: what its reaped children used. */
export async function reapedChildrenCpuMs(): Promise<number> {
  return (await processStat('self'))?.reaped ?? 0;
}

/**
 * CPU used so far by `root` and every process below it (living ones' utime + stime, and what each has
 * reaped), ms, by program name; worker threads share their process's entry.
 */
export async function treeCpuMsByName(root: number): Promise<Map<string, number>> {
  const stats = new Map<number, ProcessStat>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await processStat(entry);
    if (stat) stats.set(Number(entry), stat);
  }
  const inTree = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === root) return true;
      p = stats.get(p)?.ppid ?? 0;
    }
    return false;
  };
  const byName = new Map<string, number>();
  for (const [pid, stat] of stats) {
    if (!inTree(pid)) continue;
    // postgres backends name themselves after their connection; node's main thread may be MainThread.
    const name = stat.name.replace(/^(postgres|node|MainThread).*$/, '$1');
    byName.set(name, (byName.get(name) ?? 0) + stat.own + stat.reaped);
  }
  return byName;
}

/** CPU used so far by `root` and every process below it, ms. */
export async function treeCpuMs(root: number): Promise<number> {
  return [...(await treeCpuMsByName(root)).values()].reduce((sum, ms) => sum + ms, 0);
}
