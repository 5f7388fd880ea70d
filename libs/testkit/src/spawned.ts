import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all (EAGAIN, ENOMEM, EMFILE...). */
  error?: string;
}

/** A node process running a TypeScript entry point, with everything it printed so far. */
export interface Spawned {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Complete stdout lines. */
  lines(): string[];
  exited: Promise<Exit>;
  /** Resolves with the exit, or rejects when the process is still running after `ms`: a hang is a failure. */
  exitWithin(ms: number): Promise<Exit>;
  /** Sends `signal` unless the process has ended already; resolves with its exit. */
  stop(signal: NodeJS.Signals): Promise<Exit>;
}

const running = new Set<ChildProcess>();

// What a process needs from its parent to run at all; nothing that configures correo.
const INHERITED = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ'];

/**
 * The test runner's own environment may point at the shared test backends (KAFKA_BROKERS,
 * DATABASE_URL...): a child sees only the basics plus what its test sets.
 */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const name of INHERITED) if (process.env[name] !== undefined) base[name] = process.env[name];
  return { ...base, ...env };
}

/**
 * Runs `script` with `node --import tsx` from `cwd` (tsx must resolve from there). `nodeArgs` go
 * before the script (e.g. --cpu-prof, which NODE_OPTIONS does not accept).
 */
export function spawnNode(
  script: string,
  env: Record<string, string>,
  cwd = process.cwd(),
  nodeArgs: string[] = [],
): Spawned {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], {
    cwd,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  // A spawn that fails (EAGAIN on a saturated machine, EMFILE) emits 'error' and never 'exit':
  // that is an exit too, so that whoever waits on the process is told instead of waiting for ever
  // or meeting an unhandled rejection. An 'error' of a running process (a failed kill) is not one.
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
    child.on('error', (error) => {
      if (child.pid !== undefined) return;
      running.delete(child);
      resolve({ code: null, signal: null, error: error.message });
    });
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    lines: () => out.split('\n').slice(0, -1),
    exited,
    stop(signal) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) child.kill(signal);
      return exited;
    },
    async exitWithin(ms) {
      let timer: NodeJS.Timeout | undefined;
      const hang = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`process ${child.pid} still running after ${ms} ms`)), ms);
      });
      try {
        return await Promise.race([exited, hang]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** For after(): whatever a failed test left running. */
export async function killRunning(): Promise<void> {
  const left = [...running];
  for (const child of left) child.kill('SIGKILL');
  await Promise.all(left.map((child) => (child.exitCode === null ? once(child, 'exit') : undefined)));
}
