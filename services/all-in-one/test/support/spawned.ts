import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { configVariableNames } from '@correo/config';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
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
}

const running = new Set<ChildProcess>();

/**
 * The test runner's own environment may point at the shared test backends (KAFKA_BROKERS,
 * DATABASE_URL...): every correo variable is dropped so a child sees only what its test sets.
 */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const name of configVariableNames()) delete base[name];
  return { ...base, ...env };
}

export function spawnNode(script: string, env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const exited = (once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>).then(
    ([code, signal]) => {
      running.delete(child);
      return { code, signal };
    },
  );
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
