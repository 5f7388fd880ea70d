import { runProgram } from './program.js';

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

/** swaks arguments that authenticate as `user` (AUTH `mechanism`) and send from the same address. */
export function swaksAuth(user: string, password: string, mechanism: 'PLAIN' | 'LOGIN' = 'PLAIN'): string[] {
  return ['--auth', mechanism, '--auth-user', user, '--auth-password', password, '--from', user];
}

/** curl -v prints server lines on stderr as "< 250 ...". */
export async function curl(args: string[], options: { maxTimeS?: number } = {}): Promise<ClientRun> {
  // A bound on every run, so a stuck server fails the test instead of hanging it; big uploads on a
  // loaded machine ask for more.
  const maxTimeS = options.maxTimeS ?? 60;
  const { code, stdout, stderr } = await runProgram(
    'curl',
    ['-sS', '-v', '--max-time', String(maxTimeS), ...args],
    {
      timeoutMs: (maxTimeS + 10) * 1000,
    },
  );
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
