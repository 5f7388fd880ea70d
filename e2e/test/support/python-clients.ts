import { fileURLToPath } from 'node:url';
import { runProgram } from '@correo/testkit';

const SMTP_SESSION = fileURLToPath(new URL('../fixtures/smtp_session.py', import.meta.url));
const POP3_MAILBOX = fileURLToPath(new URL('../fixtures/pop3_mailbox.py', import.meta.url));

export interface SmtpSessionRequest {
  host: string;
  port: number;
  /** plain: no TLS; starttls: STARTTLS before AUTH/MAIL; ssl: implicit TLS (port 465). */
  mode: 'plain' | 'starttls' | 'ssl';
  cafile?: string;
  user?: string;
  password?: string;
  send?: { from: string; to: string[]; message: string };
  commands?: string[];
}

export interface SmtpSessionResult {
  /** [code, text] per step, up to the first refusal. */
  replies: [number, string][];
  error?: string;
}

/** Python's smtplib (e2e/test/fixtures/smtp_session.py). */
export async function pythonSmtp(request: SmtpSessionRequest): Promise<SmtpSessionResult> {
  const { code, stdout, stderr } = await runProgram('python3', [SMTP_SESSION], JSON.stringify(request));
  if (code !== 0) throw new Error(`python smtplib client failed (${code}): ${stderr}`);
  return JSON.parse(stdout) as SmtpSessionResult;
}

/** Every message of a maildrop as Python's poplib reads it over STLS (nothing is deleted). */
export async function pythonPop3(
  port: number,
  user: string,
  password: string,
  cafile: string,
): Promise<string[]> {
  const { code, stdout, stderr } = await runProgram('python3', [
    POP3_MAILBOX,
    '127.0.0.1',
    String(port),
    user,
    password,
    cafile,
  ]);
  if (code !== 0) throw new Error(`python poplib client failed (${code}): ${stderr}`);
  const result = JSON.parse(stdout) as { messages?: string[]; error?: string };
  if (result.error !== undefined) throw new Error(`poplib as ${user}: ${result.error}`);
  return result.messages!;
}
