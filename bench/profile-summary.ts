// Summarises V8 .cpuprofile files (node --cpu-prof; BENCH_CPU_PROF=dir make bench-vs-postfix):
// self time by package or source file, and the heaviest functions, so that "where the time goes"
// in docs/performance.md can be re-checked on any machine.
//
//   node --import tsx bench/profile-summary.ts /tmp/prof/*.cpuprofile
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

const byOwner = new Map<string, number>();
const byFunction = new Map<string, number>();
/** Native frames (writev, fsync, GC...) charged to the nearest package or repo frame that called them. */
const byCaller = new Map<string, number>();
/** Time with the owner anywhere on the stack (async stacks are cut at awaits: approximate). */
const inclusive = new Map<string, number>();
let total = 0;
for (const file of process.argv.slice(2)) {
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n.id);
  profile.samples.forEach((id, i) => {
    const node = nodes.get(id)!;
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    total += ms;
    const { functionName, url, lineNumber } = node.callFrame;
    const who = owner(url, functionName);
    byOwner.set(who, (byOwner.get(who) ?? 0) + ms);
    const fn = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(libs|services)\//, '$1/')}:${lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
    const owners = new Set<string>();
    let caller = url ? who : '';
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const frame = nodes.get(at)!.callFrame;
      if (!frame.url || frame.url.startsWith('node:')) continue;
      const o = owner(frame.url, frame.functionName);
      owners.add(o);
      if (!caller) caller = o;
    }
    for (const o of owners) inclusive.set(o, (inclusive.get(o) ?? 0) + ms);
    const charged = url ? who : caller ? `${caller} <- ${who}` : who;
    byCaller.set(charged, (byCaller.get(charged) ?? 0) + ms);
  });
}

const top = (map: Map<string, number>, n: number) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(
      ([name, ms]) =>
        `${ms.toFixed(0).padStart(8)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${name}`,
    )
    .join('\n');

console.log(
  `sampled ${total.toFixed(0)} ms\n\nself time by owner:\n${top(byOwner, 25)}\n\nnative frames charged to their caller:\n${top(byCaller, 25)}` +
    `\n\ninclusive by owner (on the stack):\n${top(inclusive, 25)}` +
    `\n\nheaviest functions:\n${top(byFunction, 30)}`,
);
