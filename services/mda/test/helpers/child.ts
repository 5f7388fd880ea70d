import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const mainScript = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface MdaProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  /** The last lines the process wrote, for failure messages. */
  output(): string;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** The real service entry point (src/main.ts) in its own process, configured only by environment. */
export function spawnMda(env: Record<string, string>): MdaProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', mainScript], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-8_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => tail,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
