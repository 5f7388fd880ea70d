import { fileURLToPath } from 'node:url';
import { runProgram } from './program.js';

export interface PythonSmtpRequest {
  host: string;
  port: number;
  /** plain: no TLS; starttls: STARTTLS before AUTH/MAIL; ssl: implicit TLS (port 465). */
  mode: 'plain' | 'starttls' | 'ssl';
  /** Without it TLS is not verified; with it the chain is checked against this CA. */
  cafile?: string;
  /** With cafile: whether the certificate must name `host` too (default true). */
  checkHostname?: boolean;
  user?: string;
  password?: string;
  /** Either a whole transaction through smtplib (MAIL, each RCPT, DATA) ... */
  send?: { from: string; to: string[]; message: string };
  /** ... and/or commands sent one by one with smtplib.docmd after EHLO. */
  commands?: string[];
}

export interface PythonSmtpResult {
  /** [code, text] per step (STARTTLS, AUTH, MAIL, each RCPT, DATA, each command), up to the first refusal. */
  replies: [number, string][];
  error?: string;
}

const SMTP_SESSION = fileURLToPath(new URL('./smtp_session.py', import.meta.url));

/** One session with Python's smtplib (smtp_session.py beside this file), driven by a JSON request. */
export async function pythonSmtp(request: PythonSmtpRequest): Promise<PythonSmtpResult> {
  const { code, stdout, stderr } = await runProgram('python3', [SMTP_SESSION], {
    input: JSON.stringify(request),
  });
  if (code !== 0) throw new Error(`python smtplib client failed (${code}): ${stderr}`);
  return JSON.parse(stdout) as PythonSmtpResult;
}
