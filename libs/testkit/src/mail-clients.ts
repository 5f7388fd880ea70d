import { execFile } from 'node:child_process';

/** How a program ended and what it printed. */
export interface ProgramRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program to its end (60 s at most), feeding `input` on stdin; a non-zero exit is a result,
 * not an error. `env` is added to this process's environment.
 */
export function runProgram(
  command: string,
  args: string[],
  input?: string,
  env?: Record<string, string>,
): Promise<ProgramRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { timeout: 60_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/** What a real SMTP client saw: its exit code and the server replies it printed, in order. */
export interface ClientRun {
  exitCode: number;
  output: string;
  /** Server reply lines ("250 2.0.0 Ok: queued as ..."). */
  replies: string[];
}

/** swaks prints server lines as "<-  250 ..." (plaintext), "<~  250 ..." (inside TLS), "<** 554 ..." (errors). */
export async function swaks(args: string[]): Promise<ClientRun> {
  const { code, stdout, stderr } = await runProgram('swaks', ['--timeout', '30', ...args]);
  const output = stdout + stderr;
  const replies = output
    .split('\n')
    .map((line) => /^<[-~*]{1,2}\s+(\d{3}[ -].*)$/.exec(line)?.[1])
    .filter((line): line is string => line !== undefined);
  return { exitCode: code, output, replies };
}

/** curl -v prints server lines on stderr as "< 250 ...". */
export async function curl(args: string[]): Promise<ClientRun> {
  const { code, stdout, stderr } = await runProgram('curl', ['-sS', '-v', '--max-time', '60', ...args]);
  const output = stdout + stderr;
  const replies = output
    .split('\n')
    .map((line) => /^< (\d{3}[ -].*?)\r?$/.exec(line)?.[1])
    .filter((line): line is string => line !== undefined);
  return { exitCode: code, output, replies };
}

/** The event id in smtp-ingress's "250 2.0.0 Ok: queued as <id>", or undefined when no 250 said so. */
export function queuedId(replies: string[]): string | undefined {
  for (const line of replies) {
    const match = /^250 2\.0\.0 Ok: queued as ([0-9a-f-]{36})/.exec(line);
    if (match) return match[1];
  }
  return undefined;
}
