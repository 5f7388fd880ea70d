// Summarises V8 .cpuprofile files (node --cpu-prof; BENCH_CPU_PROF=dir make bench-vs-postfix):
// self time by package or source file, and the heaviest functions, so that "where the time goes"
// in docs/performance.md can be re-checked on any machine.
//
//   node --import tsx bench/profile-summary.ts /tmp/prof/*.cpuprofile
//   node --import tsx bench/profile-summary.ts --skip-ms=15000 /tmp/prof/*.cpuprofile
//     (ignores the first 15 s of each profile: the process's start-up, tsx's transpiling, before the load)
//   node --import tsx bench/profile-summary.ts --skip-ms=15000 --until-ms=25000 /tmp/prof/*.cpuprofile
//     (only 15-25 s: one load of several; --timeline prints the busy share per second to find them)
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A package name for node_modules frames, the repo path for ours, the V8 label otherwise. */
function owner(url: string, name: string): string {
  if (!url) return `(${name || 'anonymous'})`;
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith('node:')) return url;
  const ours = /\/((?:libs|services)\/[^/]+)\//.exec(url);
  return ours ? ours[1]! : url.replace(/^file:\/\//, '');
}

const skipArg = process.argv.find((a) => a.startsWith('--skip-ms='));
const skipMs = skipArg ? Number(skipArg.slice('--skip-ms='.length)) : 0;
const untilArg = process.argv.find((a) => a.startsWith('--until-ms='));
const untilMs = untilArg ? Number(untilArg.slice('--until-ms='.length)) : Infinity;
/** Busy ms per whole second of the profile (--timeline): where each load starts and ends. */
const busyPerSecond: number[] = [];
const byOwner = new Map<string, number>();
/** Each sample counted once for every owner on its stack: what an owner costs with what it calls. */
const byOwnerInclusive = new Map<string, number>();
const byFunction = new Map<string, number>();
/** Native frames (writev, fsync, GC...) charged to the nearest package or repo frame that called them. */
const byCaller = new Map<string, number>();
let total = 0;
let busy = 0;
for (const file of process.argv.slice(2).filter((a) => !a.startsWith('--'))) {
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n.id);
  let elapsedMs = 0;
  profile.samples.forEach((id, i) => {
    const node = nodes.get(id)!;
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    elapsedMs += ms;
    if (node.callFrame.functionName !== '(idle)') {
      const second = Math.floor(elapsedMs / 1000);
      busyPerSecond[second] = (busyPerSecond[second] ?? 0) + ms;
    }
    if (elapsedMs < skipMs || elapsedMs >= untilMs) return;
    total += ms;
    if (node.callFrame.functionName !== '(idle)') {
      busy += ms;
      const owners = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
        const frame = nodes.get(at)!.callFrame;
        if (frame.url || frame.functionName === '(garbage collector)')
          owners.add(owner(frame.url, frame.functionName));
      }
      for (const who of owners) byOwnerInclusive.set(who, (byOwnerInclusive.get(who) ?? 0) + ms);
    }
    const { functionName, url, lineNumber } = node.callFrame;
    const who = owner(url, functionName);
    byOwner.set(who, (byOwner.get(who) ?? 0) + ms);
    const fn = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(libs|services)\//, '$1/')}:${lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
    let caller = url ? who : '';
    for (let at: number | undefined = id; !caller && at !== undefined; at = parents.get(at)) {
      const frame = nodes.get(at)!.callFrame;
      if (frame.url && !frame.url.startsWith('node:')) caller = owner(frame.url, frame.functionName);
    }
    const charged = url ? who : caller ? `${caller} <- ${who}` : who;
    byCaller.set(charged, (byCaller.get(charged) ?? 0) + ms);
  });
}

/** The `n` largest entries, each with its share of `of` (all sampled time unless told). */
const top = (map: Map<string, number>, n: number, of = total) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(
      ([name, ms]) => `${ms.toFixed(0).padStart(8)} ms ${((100 * ms) / of).toFixed(1).padStart(5)}%  ${name}`,
    )
    .join('\n');

if (process.argv.includes('--timeline'))
  console.log(
    `busy ms per second of the profile:\n${Array.from(busyPerSecond, (ms, s) => `${String(s).padStart(5)} s ${(ms ?? 0).toFixed(0).padStart(5)}`).join('\n')}\n`,
  );
console.log(
  `sampled ${total.toFixed(0)} ms${skipMs ? ` (after the first ${skipMs} ms)` : ''}${untilMs < Infinity ? ` (until ${untilMs} ms)` : ''}, busy ${busy.toFixed(0)} ms\n\n` +
    `self time by owner:\n${top(byOwner, 25)}\n\nheaviest functions:\n${top(byFunction, 30)}\n\n` +
    `native frames charged to their caller:\n${top(byCaller, Number(process.env.PROFILE_TOP ?? 25))}\n\n` +
    `inclusive by owner (share of the busy time; async stacks are cut at awaits):\n${top(byOwnerInclusive, 30, busy)}`,
);
