import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What a real client saw: its exit code and the server replies it printed, in order. */
export interface ClientRun {
  exitCode: number;
  output: string;
  /** Server reply lines ("250 2.0.0 Ok: queued as ..."). */
  replies: string[];
}

function run(
  command: string,
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** swaks prints server lines as "<-  250 ..." (plaintext), "<~  250 ..." (inside TLS), "<** 554 ..." (errors). */
export async function swaks(args: string[]): Promise<ClientRun> {
  const { code, stdout, stderr } = await run('swaks', ['--timeout', '30', ...args]);
  const output = stdout + stderr;
  const replies = output
    .split('\n')
    .map((line) => /^<[-~*]{1,2}\s+(\d{3}[ -].*)$/.exec(line)?.[1])
    .filter((line): line is string => line !== undefined);
  return { exitCode: code, output, replies };
}

/** curl -v prints server lines on stderr as "< 250 ...". */
export async function curl(args: string[]): Promise<ClientRun> {
  const { code, stdout, stderr } = await run('curl', ['-sS', '-v', '--max-time', '60', ...args]);
  const output = stdout + stderr;
  const replies = output
    .split('\n')
    .map((line) => /^< (\d{3}[ -].*?)\r?$/.exec(line)?.[1])
    .filter((line): line is string => line !== undefined);
  return { exitCode: code, output, replies };
}

export interface PythonSmtpRequest {
  host: string;
  port: number;
  /** plain: no TLS; starttls: STARTTLS before AUTH/MAIL; ssl: implicit TLS (port 465). */
  mode: 'plain' | 'starttls' | 'ssl';
  cafile?: string;
  user?: string;
  password?: string;
  /** Either a whole transaction through smtplib.sendmail ... */
  send?: { from: string; to: string[]; message: string };
  /** ... or commands sent one by one with smtplib.docmd after EHLO. */
  commands?: string[];
}

export interface PythonSmtpResult {
  /** [code, text] per docmd, or the sendmail outcome. */
  replies: [number, string][];
  error?: string;
}

const pythonClient = fileURLToPath(new URL('./smtp_client.py', import.meta.url));

/** Python's smtplib, driven by a JSON request on stdin. */
export async function pythonSmtp(request: PythonSmtpRequest): Promise<PythonSmtpResult> {
  const { code, stdout, stderr } = await run('python3', [pythonClient], JSON.stringify(request));
  if (code !== 0) throw new Error(`python smtplib client failed (${code}): ${stderr}`);
  return JSON.parse(stdout) as PythonSmtpResult;
}

/** "250 2.0.0 Ok: queued as <id>" -> id */
export function queuedId(replies: string[]): string | undefined {
  for (const line of replies) {
    const match = /^250 2\.0\.0 Ok: queued as ([0-9a-f-]{36})/.exec(line);
    if (match) return match[1];
  }
  return undefined;
}
