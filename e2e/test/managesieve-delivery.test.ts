import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually, LineClient, runProgram, startAllInOneProcess, swaks } from '@correo/testkit';
import type { AllInOneProcess } from '@correo/testkit';

const SCRIPT = [
  'require ["fileinto", "mailbox"];',
  'if header :contains "subject" "invoice" {',
  '  fileinto :create "Invoices";',
  '}',
  '',
].join('\n');

describe('a script put over ManageSieve is the one the mda runs at delivery (all-in-one process)', () => {
  let app: AllInOneProcess;
  let dir: string;

  before(async () => {
    app = await startAllInOneProcess();
    dir = await mkdtemp(join(tmpdir(), 'managesieve-e2e-'));
    await writeFile(join(dir, 'rules.sieve'), SCRIPT);
  });
  after(async () => {
    await app?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('the banner (make dev prints it) lists the ManageSieve listener', () => {
    assert.match(
      app.process.stderr(),
      new RegExp(`ManageSieve \\(STARTTLS\\)\\s+sieve://${app.host}:${app.ports.managesieve}\\b`),
    );
  });

  test("sieve-connect uploads and activates over STARTTLS; mail over SMTP is filed by the script's fileinto", async () => {
    const sieveConnect = (...args: string[]) =>
      runProgram(
        'sieve-connect',
        [
          '--server',
          app.host,
          '--port',
          String(app.ports.managesieve),
          '--user',
          app.demo.address,
          '--passwordfd',
          '0',
          '--tlscafile',
          app.caFile,
          '--noclearauth',
          '--authmech',
          'PLAIN',
          ...args,
        ],
        { input: `${app.demo.password}\n`, cwd: dir },
      );
    const upload = await sieveConnect('--upload', '--localsieve', 'rules.sieve', '--remotesieve', 'rules');
    assert.equal(upload.code, 0, upload.stderr);
    const activate = await sieveConnect('--activate', '--remotesieve', 'rules');
    assert.equal(activate.code, 0, activate.stderr);

    const sent = await swaks([
      '--server',
      `${app.host}:${app.ports.mx}`,
      '--from',
      'billing@sender.test',
      '--to',
      app.demo.address,
      '--header',
      'Subject: Your invoice 42',
      '--body',
      'Amount due: 42.',
    ]);
    assert.equal(sent.exitCode, 0, sent.output);

    const imap = await LineClient.imapLogin(app.ports.imap, app.demo.address, app.demo.password);
    try {
      const messages = async (mailbox: string) => {
        const reply = await imap.command(`STATUS "${mailbox}" (MESSAGES)`);
        if (!reply.status.startsWith('OK')) return -1;
        return Number(/MESSAGES (\d+)/.exec(reply.untagged.join(' '))?.[1] ?? -1);
      };
      await eventually('the message filed into Invoices', async () => (await messages('Invoices')) === 1);
      const fetched = await imap.command('SELECT "Invoices"');
      assert.match(fetched.status, /^OK/);
      const subject = await imap.commandOk('FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
      assert.match(subject.join('\n'), /Subject: Your invoice 42/);
      const inbox = await imap.command('STATUS "INBOX" (MESSAGES)');
      assert.match(inbox.untagged.join(' '), /MESSAGES 0/, 'not also kept in INBOX');
    } finally {
      imap.destroy();
    }
  });
});
