import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { findImapMailbox, openImapMailbox } from '@correo/store';
import { LineClient } from '@correo/testkit';
import type { TaggedReply } from '@correo/testkit';
import type { ImapGateway } from '../src/index.js';
import { MailboxView } from '../src/mailbox-view.js';
import { MAX_SEARCH_FACTS_CHARS, MessageCache } from '../src/message-cache.js';
import { heldCondition, searchHeld } from '../src/search-program.js';
import { appendMessage, ImapTestStack } from './helpers/stack.js';

// SEARCH keys on the summary columns answered in the gateway (search-program.ts searchHeld) against
// the same programs answered by PostgreSQL, on one mailbox: SAVEDSINCE 1-Jan-1970 matches every
// message but is a key only the store answers, so prefixing it sends the program to SQL.

/** The statements that answer a SEARCH from the store: its SQL, or the read of the summary columns. */
const searchStatements: string[] = [];
let recording = false;
type Query = (this: pg.Client, ...args: unknown[]) => unknown;
const query = pg.Client.prototype.query as unknown as Query;
// Wrapped on the prototype, as bench/imap-statements.ts does: the pool's clients are made in the store.
(pg.Client.prototype as unknown as { query: Query }).query = function (this: pg.Client, ...args: unknown[]) {
  const [config] = args;
  if (recording && typeof config === 'object' && config !== null) {
    const name = 'name' in config ? String(config.name) : '';
    const text = 'text' in config ? String(config.text) : '';
    if (name.startsWith('imap-read-messages')) searchStatements.push(name);
    else if (/^SELECT mm\.uid, mm\.modseq FROM mailbox_messages mm\s+JOIN messages m/.test(text)) {
      searchStatements.push('search sql');
    }
  } else if (recording && typeof config === 'string' && config.includes('JOIN messages m')) {
    searchStatements.push('search sql');
  }
  return query.apply(this, args);
};

const message = (headers: string[], body = ['Hello.']): string =>
  [...headers, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', ...body, ''].join('\r\n');

const MESSAGES = [
  // 1, 2: what the IMAP benchmark searches for, in two cases.
  message([
    'From: "Sender Three" <s3@remote.test>',
    'To: someone@example.test',
    'Subject: bench 3',
    'Message-ID: <one@remote.test>',
    'Date: Thu, 26 Nov 2026 06:00:00 +0000',
  ]),
  message([
    'From: S3 <S3@Remote.Test>',
    'To: Someone <someone@example.test>',
    'Cc: Copy <copy@example.test>',
    'Subject: BENCH 3 again',
    'In-Reply-To: <one@remote.test>',
  ]),
  // 3: encoded words: Subject "Grüße bench" and a From display name with umlauts.
  message([
    'From: =?utf-8?q?J=C3=BCrgen?= <juergen@remote.test>',
    'To: someone@example.test',
    'Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe_bench?=',
    'Date: Fri, 27 Nov 2026 01:00:00 +0300',
  ]),
  // 4: no From, no Subject, no Date.
  message(['To: someone@example.test']),
  // 5: a capital I with a dot (U+0130) and the Kelvin sign (U+212A): lower() and toLowerCase differ.
  message([
    'From: k@remote.test',
    'To: someone@example.test',
    'Subject: =?utf-8?q?=C4=B0stanbul_=E2=84=AAelvin?=',
  ]),
  // 6: an empty Subject and Cc, and a long body (LARGER/SMALLER).
  message(
    ['From: big@remote.test', 'To: s3@example.test', 'Cc: ', 'Subject: '],
    Array.from({ length: 40 }, (_, i) => `line ${i} of a longer message, bench 3 is not in its headers`),
  ),
];

/** A search program written with «text» for a UTF-8 literal; CHARSET UTF-8 is given when one is used. */
async function searchCommand(client: LineClient, program: string): Promise<TaggedReply> {
  const parts = program.split(/«([^»]*)»/);
  const literals = parts.filter((_, i) => i % 2 === 1);
  const tag = client.allocateTag();
  const chunks: Buffer[] = [Buffer.from(`${tag} SEARCH ${literals.length ? 'CHARSET UTF-8 ' : ''}`)];
  parts.forEach((part, i) => {
    if (i % 2 === 0) chunks.push(Buffer.from(part));
    else {
      const bytes = Buffer.from(part, 'utf8');
      chunks.push(Buffer.from(`{${bytes.length}+}\r\n`), bytes);
    }
  });
  chunks.push(Buffer.from('\r\n'));
  client.write(Buffer.concat(chunks));
  const done = await client.collect(tag);
  assert.match(done.status, /^OK /, `SEARCH ${program}: ${done.status}`);
  return done;
}

/** The SEARCH or ESEARCH responses, the tag taken out of ESEARCH's. */
const answer = (done: TaggedReply): string[] =>
  done.untagged
    .filter((line) => /^\* (E?SEARCH)\b/.test(line))
    .map((line) => line.replace(/ \(TAG "[^"]*"\)/, ''));

/** Programs the gateway answers in memory, each with a `SAVEDSINCE` twin the store answers. */
const HELD = [
  'FROM s3 SUBJECT "bench 3"',
  'FROM S3',
  'SUBJECT BeNcH',
  'SUBJECT "bench 3"',
  'FROM remote.test',
  'FROM sender',
  'FROM ""',
  'NOT FROM ""',
  'SUBJECT ""',
  'NOT SUBJECT ""',
  'CC ""',
  'CC copy',
  'TO ""',
  'TO S3',
  'HEADER SUBJECT ""',
  'HEADER Subject bench',
  'HEADER FROM juergen',
  'HEADER Message-ID <one@',
  'HEADER In-Reply-To ONE@remote',
  'HEADER IN-REPLY-TO ""',
  'HEADER DATE "Nov 2026"',
  'HEADER DATE ""',
  'LARGER 500',
  'SMALLER 500',
  'NOT LARGER 500',
  'OR FROM s3 SEEN',
  'OR SUBJECT "bench 3" LARGER 1000',
  'NOT SUBJECT bench UNSEEN',
  'UID 2:5 SUBJECT e',
  '1:3 FROM remote',
  'OR (FROM nobody) (LARGER 1000) FLAGGED',
  'NOT OR FROM s3 TO s3',
  'SUBJECT gr',
  'SUBJECT bul',
  'SUBJECT elv',
  'SEEN',
  'UNSEEN',
  'ON 24-Mar-2007',
  'ON 23-Mar-2007',
  'BEFORE 25-Mar-2007',
  'SINCE 25-Mar-2007',
  'NOT SINCE 1-Jan-2020',
  'SENTON 26-Nov-2026',
  'SENTON 27-Nov-2026',
  'SENTBEFORE 27-Nov-2026',
  'SENTSINCE 26-Nov-2026',
  'NOT SENTSINCE 1-Jan-1990',
  'OR SENTON 27-Nov-2026 FROM big',
];

/** Programs the store answers (non-ASCII values, letters lower() folds otherwise, other fields). */
const DIFFERENTIAL_ONLY = [
  'SUBJECT «grüße»',
  'SUBJECT «GRÜSSE»',
  'FROM «Jürgen»',
  'SUBJECT istanbul',
  'SUBJECT k',
  'SUBJECT elvin',
  'SUBJECT «i̇stanbul»',
  'SUBJECT «İ»',
  'HEADER X-Missing ""',
  'BCC s3',
];

describe('SEARCH on the summary columns in the gateway (search-program.ts searchHeld)', () => {
  let stack: ImapTestStack;
  let gateway: ImapGateway;
  let client: LineClient;
  let accountId: string;

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    gateway = await stack.gateway();
    const account = await stack.account('held');
    accountId = account.accountId;
    client = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    for (const [i, raw] of MESSAGES.entries()) {
      // Message 2 arrived on another day in the zone APPEND gives than in UTC.
      await appendMessage(client, 'INBOX', raw, i === 1 ? '24-Mar-2007 23:30:00 +0200' : undefined);
    }
    assert.match((await client.command('SELECT INBOX')).status, /^OK /);
    assert.match((await client.command('STORE 2,5 +FLAGS.SILENT (\\Seen)')).status, /^OK /);
    assert.match((await client.command('STORE 3 +FLAGS.SILENT (\\Flagged)')).status, /^OK /);
    await client.command('NOOP');
  });
  after(async () => {
    client?.destroy();
    await stack?.close();
  });

  const recorded = async <T = TaggedReply>(
    run: () => Promise<T>,
  ): Promise<{ done: T; statements: string[] }> => {
    searchStatements.length = 0;
    recording = true;
    try {
      const done = await run();
      return { done, statements: [...searchStatements] };
    } finally {
      recording = false;
    }
  };

  test('the first SEARCH reads the summary columns once by UID; then no statement answers it', async () => {
    const first = await recorded(() => searchCommand(client, 'FROM s3 SUBJECT "bench 3"'));
    assert.deepEqual(answer(first.done), ['* SEARCH 1 2']);
    assert.deepEqual(first.statements, ['imap-read-messages-s']);
    const second = await recorded(() => searchCommand(client, 'FROM s3 SUBJECT "bench 3"'));
    assert.deepEqual(answer(second.done), ['* SEARCH 1 2']);
    assert.deepEqual(second.statements, []);
  });

  test('every program answers exactly as PostgreSQL does', async () => {
    for (const program of [...HELD, ...DIFFERENTIAL_ONLY]) {
      const held = await recorded(() => searchCommand(client, program));
      const sql = await recorded(() => searchCommand(client, `SAVEDSINCE 1-Jan-1970 ${program}`));
      assert.ok(sql.statements.includes('search sql'), `${program}: the twin went to SQL`);
      assert.deepEqual(answer(held.done), answer(sql.done), program);
      if (HELD.includes(program)) assert.deepEqual(held.statements, [], `${program}: answered in memory`);
    }
  });

  test('the in-memory answers are the ones RFC 9051 6.4.4 asks for', async () => {
    const numbers = async (program: string) => answer(await searchCommand(client, program));
    assert.deepEqual(
      await numbers('SUBJECT ""'),
      ['* SEARCH 1 2 3 5 6'],
      'an empty Subject is there, a missing one not',
    );
    assert.deepEqual(await numbers('FROM ""'), ['* SEARCH 1 2 3 5 6']);
    assert.deepEqual(await numbers('NOT FROM ""'), ['* SEARCH 4']);
    assert.deepEqual(await numbers('SUBJECT gr'), ['* SEARCH 3'], 'the decoded Subject');
    assert.deepEqual(await numbers('LARGER 1000'), ['* SEARCH 6']);
    assert.deepEqual(await numbers('OR FROM s3 FLAGGED'), ['* SEARCH 1 2 3']);
    assert.deepEqual(await numbers('SUBJECT bench UNSEEN'), ['* SEARCH 1 3']);
    assert.deepEqual(await numbers('ON 24-Mar-2007'), ['* SEARCH 2'], 'the day in the zone APPEND gave');
    assert.deepEqual(await numbers('SENTON 27-Nov-2026'), ['* SEARCH 3'], 'the day in the Date header zone');
    assert.deepEqual(await numbers('NOT SENTSINCE 1-Jan-1990'), ['* SEARCH 2 4 5 6'], 'no Date header');
    // From the store, as are the characters lower() folds otherwise than JavaScript.
    assert.deepEqual(await numbers('SUBJECT «grüße»'), ['* SEARCH 3']);
    assert.deepEqual(await numbers('SUBJECT istanbul'), ['* SEARCH 5']);
  });

  test('ESEARCH RETURN options and MODSEQ come out as from the store', async () => {
    for (const program of [
      'RETURN (MIN MAX COUNT) FROM s3',
      'RETURN (ALL) SUBJECT bench',
      'RETURN () SUBJECT zzz-none',
      'MODSEQ 1 FROM s3',
      'RETURN (MAX) MODSEQ 1 SUBJECT bench',
    ]) {
      const held = await recorded(() => searchCommand(client, program));
      const twin = program.replace(/(MODSEQ 1 |\) )/, '$1SAVEDSINCE 1-Jan-1970 ');
      const sql = await recorded(() => searchCommand(client, twin));
      assert.deepEqual(held.statements, [], `${program}: answered in memory`);
      assert.ok(sql.statements.includes('search sql'), `${twin}: to SQL`);
      assert.deepEqual(answer(held.done), answer(sql.done), program);
      assert.equal(answer(held.done).length, 1, program);
    }
    assert.match(
      answer(await searchCommand(client, 'MODSEQ 1 FROM s3'))[0]!,
      /^\* SEARCH 1 2 \(MODSEQ \d+\)$/,
    );
  });

  test('a message whose facts are not held yet is read alone, the others stay in memory', async () => {
    await appendMessage(client, 'INBOX', message(['From: s3@remote.test', 'Subject: bench 3 late']));
    await client.command('NOOP');
    const after = await recorded(() => searchCommand(client, 'FROM s3 SUBJECT "bench 3"'));
    assert.deepEqual(answer(after.done), ['* SEARCH 1 2 7']);
    assert.deepEqual(after.statements, ['imap-read-messages-s']);
  });

  test('random subjects of letters lower() and toLowerCase fold apart: ASCII searches answer alike', async () => {
    // A fixed seed: the same subjects and searches on every run.
    let seed = 11;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pick = (alphabet: string[], length: number) =>
      Array.from({ length }, () => alphabet[next(alphabet.length)]).join('');
    const letters = [
      'a',
      'A',
      'i',
      'I',
      'k',
      'K',
      's',
      'S',
      '\u0130',
      '\u0131',
      '\u212a',
      '\u017f',
      'ß',
      'É',
      ' ',
    ];
    assert.match((await client.command('CREATE Random')).status, /^OK /);
    for (let m = 0; m < 24; m++) {
      const subject = Buffer.from(pick(letters, 3 + next(6)), 'utf8').toString('base64');
      await appendMessage(
        client,
        'Random',
        message(['From: r@remote.test', `Subject: =?utf-8?b?${subject}?=`]),
      );
    }
    assert.match((await client.command('SELECT Random')).status, /^OK /);
    let inMemory = 0;
    for (let n = 0; n < 60; n++) {
      const needle = pick(['a', 'A', 'i', 'I', 'k', 'K', 's', 'S', ' '], 1 + next(3));
      const held = await recorded(() => searchCommand(client, `SUBJECT "${needle}"`));
      const sql = await recorded(() => searchCommand(client, `SAVEDSINCE 1-Jan-1970 SUBJECT "${needle}"`));
      assert.deepEqual(answer(held.done), answer(sql.done), `SUBJECT "${needle}"`);
      if (!held.statements.includes('search sql')) inMemory++;
    }
    assert.ok(inMemory > 0, 'some of them were answered in memory');
    assert.match((await client.command('SELECT INBOX')).status, /^OK /);
  });

  test('more messages in question than half the cache holds: the store answers, nothing is read', async () => {
    const mailbox = (await findImapMailbox(stack.pool, accountId, 'INBOX'))!;
    const snapshot = (await openImapMailbox(stack.pool, accountId, mailbox.id))!;
    const view = new MailboxView(
      mailbox.id,
      'INBOX',
      true,
      snapshot.uidvalidity,
      snapshot,
      snapshot.keywords,
    );
    const program = heldCondition(view, [{ key: 'LARGER', size: 1000 }]);
    assert.ok(program, 'LARGER is answered in memory');
    const small = { pool: stack.pool, messageCache: new MessageCache(4), batchSize: 200 };
    const refused = await recorded(() => searchHeld(small, accountId, view, program));
    assert.equal(refused.done, null, `${snapshot.messages.length} messages, a cache of 4`);
    assert.deepEqual(refused.statements, []);
    const roomy = { pool: stack.pool, messageCache: new MessageCache(100), batchSize: 3 };
    const read = await recorded(() => searchHeld(roomy, accountId, view, program));
    assert.deepEqual(
      read.done?.map((m) => m.uid),
      [6],
    );
    // In batches of IMAP_FETCH_BATCH.
    assert.equal(read.statements.length, Math.ceil(snapshot.messages.length / 3));
  });

  test('an arrival the catch-up brings is not in the answer, from memory or from PostgreSQL', async () => {
    const account = await stack.account('held-arrival');
    for (const subject of ['Grüße one', 'Grüße two'])
      await stack.deliver(
        account.accountId,
        account.address,
        message([`Subject: ${subject}`, 'From: s3@remote.test']),
      );
    const a = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    const b = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    try {
      assert.match((await a.command('SELECT INBOX')).status, /^OK /);
      for (const [i, program] of ['SUBJECT «grüße»', 'FROM s3'].entries()) {
        await stack.deliver(
          account.accountId,
          account.address,
          message([`Subject: Grüße late ${i}`, 'From: s3@remote.test']),
        );
        // A round trip elsewhere: the delivery's change reaches a's session meanwhile.
        assert.match((await b.command('STATUS INBOX (MESSAGES)')).status, /^OK /);
        const done = await searchCommand(a, program);
        const told = i + 2;
        assert.deepEqual(
          answer(done),
          [`* SEARCH ${Array.from({ length: told }, (_, n) => n + 1).join(' ')}`],
          program,
        );
        const lines = done.untagged;
        assert.ok(lines.indexOf(`* ${told + 1} EXISTS`) > lines.indexOf(answer(done)[0]!), lines.join('\n'));
      }
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  test('a message with longer headers than the cache keeps is searched in PostgreSQL, alike', async () => {
    const long = `bench 3 ${'very long subject '.repeat(MAX_SEARCH_FACTS_CHARS / 16)}end`;
    await appendMessage(client, 'INBOX', message(['From: s3@remote.test', `Subject: ${long}`]));
    await client.command('NOOP');
    await searchCommand(client, 'FROM s3 SUBJECT end');
    const again = await recorded(() => searchCommand(client, 'FROM s3 SUBJECT end'));
    assert.deepEqual(answer(again.done), ['* SEARCH 8']);
    assert.deepEqual(again.statements, ['search sql'], 'its facts are not held: the store answers');
    // Keys the view decides for it (UID) still leave it out of the question.
    const others = await recorded(() => searchCommand(client, 'UID 1:7 FROM s3 SUBJECT "bench 3"'));
    assert.deepEqual(answer(others.done), ['* SEARCH 1 2 7']);
    assert.deepEqual(others.statements, []);
  });
});
