import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { AllInOneProcess } from '@correo/testkit';
import { deliver } from './all-in-one.js';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const WEBMAIL_DIR = fileURLToPath(new URL('../../', import.meta.url));

/** Screenshots and other things to look at after a run (gitignored). */
export const ARTIFACTS_DIR = `${REPO_ROOT}.artifacts/webmail`;

/**
 * Debian's chromium (scripts/chromium.sh installs it with apt when missing; never a downloaded
 * browser build), driven by playwright-core. Root in a container needs --no-sandbox.
 */
export async function launchChromium(): Promise<Browser> {
  const { stdout } = await run('bash', [`${REPO_ROOT}scripts/chromium.sh`], { timeout: 600_000 });
  return chromium.launch({ executablePath: stdout.trim(), headless: true, args: ['--no-sandbox'] });
}

/** make dev / make test build the front end first; a test run alone builds it when it is missing. */
export async function ensureFrontEndBuilt(): Promise<void> {
  if (existsSync(`${WEBMAIL_DIR}web/dist/index.html`)) return;
  await run('npm', ['run', 'build'], { cwd: WEBMAIL_DIR, timeout: 300_000 });
}

export interface ForeignHost {
  origin: string;
  /** Every path a browser asked this host for. */
  hits: string[];
  /** Pages it serves (path -> HTML), e.g. a cross-site attack page. */
  pages: Map<string, string>;
  close(): Promise<void>;
}

/** Another origin on loopback that records every request: the hostile mails point at it. */
export async function startForeignHost(): Promise<ForeignHost> {
  const hits: string[] = [];
  const pages = new Map<string, string>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = request.url ?? '/';
    const page = pages.get(path);
    if (page !== undefined) {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
      return;
    }
    hits.push(path);
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    hits,
    pages,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A mail from `from` to the stack's demo account through its MX, as swaks sends it. */
export async function deliverToDemo(
  stack: AllInOneProcess,
  from: string,
  subject: string,
  extra: string[] = [],
): Promise<void> {
  await deliver(stack, from, stack.demo.address, subject, extra);
}

/** The environment of a webmail deployed on its own in front of this stack's gateways. */
export function standaloneWebmailEnv(stack: AllInOneProcess, extra: Record<string, string> = {}) {
  return {
    WEBMAIL_HOST: '127.0.0.1',
    WEBMAIL_PORT: '0',
    WEBMAIL_IMAP_HOST: stack.host,
    WEBMAIL_IMAP_PORT: String(stack.ports.imap),
    WEBMAIL_SUBMISSION_HOST: stack.host,
    WEBMAIL_SUBMISSION_PORT: String(stack.ports.submission),
    WEBMAIL_TLS_CA_FILE: stack.caFile,
    WEBMAIL_TLS_SERVERNAME: 'mx.correo.test',
    ...extra,
  };
}

/** Signs in on the webmail's own form, as a person would; the caller waits for what it expects next. */
export async function signInPage(page: Page, url: string, address: string, password: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Mail address').fill(address);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
