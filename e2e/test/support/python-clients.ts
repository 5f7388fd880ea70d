import { fileURLToPath } from 'node:url';
import { runProgram } from '@correo/testkit';

const SMTP_SESSION = fileURLToPath(new URL('../fixtures/smtp_session.py', import.meta.url));

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
