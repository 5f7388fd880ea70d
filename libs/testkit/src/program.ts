import { spawn } from 'node:child_process';

/** How a program ended and what it printed. */
export interface ProgramRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ProgramOptions {
  /** Fed on stdin (stdin is closed either way, so a program waiting for input does not hang). */
  input?: string;
  /** Added to this process's environment. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** The program is killed after this long and the run rejects: a hang is a failure. 60 s unless given. */
  timeoutMs?: number;
}

/**
 * Runs a program to its end: a real client (curl, swaks, imaplib, mbsync, fetchmail...) or a CLI. A
 * non-zero exit is a result, not an error. For long-running node processes see spawnNode.
 */
export function runProgram(
  command: string,
  args: string[],
  options: ProgramOptions = {},
): Promise<ProgramRun> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    // A program that exits without reading its input closes the pipe under us: not this run's failure.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) reject(new Error(`${command} still running after ${timeoutMs} ms; stderr: ${stderr}`));
      else if (code === null) reject(new Error(`${command} ended by ${signal}; stderr: ${stderr}`));
      else resolve({ code, stdout, stderr });
    });
  });
}
