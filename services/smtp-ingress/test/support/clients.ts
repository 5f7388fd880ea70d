import { fileURLToPath } from 'node:url';
import { runProgram } from '@correo/testkit';

// swaks, curl and the queued-id parser are shared by every test suite (@correo/testkit).
export { curl, queuedId, swaks, type ClientRun } from '@correo/testkit';

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
  const { code, stdout, stderr } = await runProgram('python3', [pythonClient], JSON.stringify(request));
  if (code !== 0) throw new Error(`python smtplib client failed (${code}): ${stderr}`);
  return JSON.parse(stdout) as PythonSmtpResult;
}
