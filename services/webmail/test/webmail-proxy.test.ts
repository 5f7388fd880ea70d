import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@correo/config';
import { pino } from 'pino';
import { startAllInOneProcess, type AllInOneProcess } from '@correo/testkit';
import { startWebmail, webmailSection, type RunningWebmail } from '../src/index.js';
import { standaloneWebmailEnv } from './support/browser.js';

/*
 * The webmail signs in to the IMAP gateway for every browser it serves. Without PROXY the gateway saw
 * only the webmail's address: one browser guessing passwords locked every user of the webmail out
 * (and the per-IP connection cap counted all of them as one). The webmail now opens each IMAP and
 * submission connection with a PROXY v2 header naming the browser, and the all-in-one trusts the
 * webmail's own source address (127.0.80.81) for it. Here a reverse proxy on loopback (trusted by the
 * webmail: WEBMAIL_TRUSTED_PROXIES) stands for two browsers with two X-Forwarded-For addresses.
 */

const GUESSER = '203.0.113.7';
const NEIGHBOUR = '198.51.100.9';
/** libs/auth's network ceiling: failures from one client network before it is locked. */
const IP_LOCK_AFTER = 50;

let stack: AllInOneProcess;

async function signIn(url: string, forwardedFor: string, address: string, password: string) {
  const answer = await fetch(`${url}/api/session`, {
    method: 'POST',
    headers: { origin: url, 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
    body: JSON.stringify({ address, password }),
  });
  const body = (await answer.json()) as { error?: { code: string } };
  if (answer.ok) {
    const cookie = (answer.headers.get('set-cookie') ?? '').split(';')[0]!;
    await fetch(`${url}/api/session`, {
      method: 'DELETE',
      headers: { origin: url, cookie, 'x-csrf-token': (body as { csrfToken?: string }).csrfToken ?? '' },
    });
  }
  return { status: answer.status, code: body.error?.code };
}

describe('webmail -> gateways: PROXY v2 with the browser address', { timeout: 300_000 }, () => {
  before(async () => {
    stack = await startAllInOneProcess({ env: { WEBMAIL_TRUSTED_PROXIES: '127.0.0.1' } });
  });
  after(async () => {
    await stack?.stop();
  });

  test("one browser's password guessing locks that browser out, not the webmail's other users", async () => {
    // Every guess names another (unknown) login, so no per-login delay slows it: only the network
    // counter of the guessing browser fills.
    for (let i = 0; i < IP_LOCK_AFTER; i++) {
      const guess = await signIn(stack.webmailUrl, GUESSER, `nobody${i}@example.test`, 'wrong');
      assert.deepEqual(guess, { status: 401, code: 'login_failed' });
    }
    const locked = await signIn(stack.webmailUrl, GUESSER, stack.demo.address, stack.demo.password);
    assert.deepEqual(locked, { status: 401, code: 'login_failed' }, 'the guessing browser is locked out');
    const neighbour = await signIn(stack.webmailUrl, NEIGHBOUR, stack.demo.address, stack.demo.password);
    assert.equal(neighbour.status, 200, 'another browser of the same webmail still signs in');
  });

  test('X-Forwarded-For counts only from a trusted proxy: a webmail that trusts none uses the peer', async () => {
    // Deployed alone with PROXY on and no trusted proxies: the guesser's header is ignored, the
    // browser is the socket's peer (127.0.0.1), which nobody locked.
    const config = loadConfig(
      standaloneWebmailEnv(stack, {
        WEBMAIL_PROXY_PROTOCOL: 'true',
        WEBMAIL_SOURCE_ADDRESS: '127.0.80.81',
        WEBMAIL_SECURE_COOKIE: 'false',
      }),
      { webmail: webmailSection },
    );
    const webmail: RunningWebmail = await startWebmail({
      config: config.webmail,
      logger: pino({ level: 'silent' }),
    });
    try {
      const spoofed = await signIn(webmail.url, GUESSER, stack.demo.address, stack.demo.password);
      assert.equal(spoofed.status, 200, 'X-Forwarded-For from an untrusted peer names nobody');
    } finally {
      await webmail.close();
    }
  });
});
