// How many PostgreSQL statements each command of the IMAP benchmark's cycle costs (a report, not a
// test): the gateway runs in this process on the test backends' PostgreSQL, every query its pg
// clients send is recorded, and one cycle of bench/imap-vs-dovecot.ts's commands is run twice (the
// second shows the steady state: caches filled, the mailbox already selected).
//
//   set -a; . .test-backends/env; set +a; node --import tsx bench/imap-statements.ts
import pg from 'pg';
import { LineClient } from '@correo/testkit';
import { ImapTestStack, rawMessage } from '../services/imap-gateway/test/helpers/stack.js';

const sent: string[] = [];
let recording = false;
type Query = (this: pg.Client, ...args: unknown[]) => unknown;
const query = pg.Client.prototype.query as unknown as Query;
// Wrapped on the prototype: the pool's clients are made inside the store, out of reach otherwise.
(pg.Client.prototype as unknown as { query: Query }).query = function (this: pg.Client, ...args: unknown[]) {
  const [config] = args;
  if (recording) {
    const named =
      typeof config === 'object' && config !== null && 'name' in config ? String(config.name) : '';
    const text =
      typeof config === 'string'
        ? config
        : typeof config === 'object' && config !== null && 'text' in config
          ? String(config.text)
          : '';
    sent.push(`${named ? `[${named}] ` : ''}${text.replace(/\s+/g, ' ').slice(0, 100)}`);
  }
  return query.apply(this, args);
};

const stack = await ImapTestStack.create('embedded');
try {
  const gateway = await stack.gateway({});
  const account = await stack.account('statements');
  const client = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
  const append = async () => {
    const message = rawMessage('appended by the benchmark');
    const tag = client.allocateTag();
    client.write(`${tag} APPEND INBOX {${Buffer.byteLength(message)}+}\r\n${message}\r\n`);
    await client.collect(tag);
  };
  for (let i = 0; i < 20; i++) await append();
  const cycle: [string, () => Promise<unknown>][] = [
    ['SELECT', () => client.command('SELECT INBOX')],
    ['FETCH flags', () => client.command('FETCH 1:* (UID FLAGS)')],
    ['FETCH envelope', () => client.command('FETCH 5:14 (ENVELOPE BODYSTRUCTURE)')],
    ['FETCH body', () => client.command('FETCH 7 (UID RFC822.SIZE BODY.PEEK[])')],
    ['STORE', () => client.command('STORE 7 +FLAGS (\\Seen \\Flagged)')],
    ['APPEND', append],
    ['UID STORE', () => client.command('UID STORE * +FLAGS.SILENT (\\Deleted)')],
    ['EXPUNGE', () => client.command('EXPUNGE')],
    ['SEARCH', () => client.command('SEARCH FROM s3 SUBJECT "bench 3"')],
  ];
  for (const round of ['first cycle', 'second cycle']) {
    let total = 0;
    console.log(`## ${round}`);
    for (const [name, run] of cycle) {
      sent.length = 0;
      recording = true;
      await run();
      // The change a write published comes back to the session on the next turn: count what it costs.
      await new Promise((resolve) => setTimeout(resolve, 50));
      recording = false;
      total += sent.length;
      console.log(`${name}: ${sent.length}`);
      for (const line of sent) console.log(`    ${line}`);
    }
    console.log(`cycle: ${total} statements\n`);
  }
  client.destroy();
} finally {
  await stack.close();
}
