import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LineClient } from '@correo/testkit';
import type { ImapGateway } from '../src/index.js';
import { InProcessGateway } from './helpers/session-driver.js';
import { ImapTestStack, rawMessage } from './helpers/stack.js';

/**
 * NOTIFY (RFC 5465) on the account's change feed: one session changes a mailbox, another session of
 * the account is told without asking (between commands, during IDLE, or before a tagged response):
 * STATUS for other mailboxes, EXISTS / FETCH / EXPUNGE for the selected one, LIST for the mailbox
 * list and subscriptions, METADATA for annotations. Every wait is on the output, never on a timer.
 */
describe('NOTIFY (RFC 5465)', () => {
  let gateway: InProcessGateway;

  before(async () => {
    gateway = await InProcessGateway.open();
  });
  after(async () => {
    await gateway.close();
  });

  test('NOTIFY is advertised; unsupported events get NO [BADEVENT]; wrong combinations BAD', async () => {
    const a = await gateway.session(await gateway.account('checks'));
    assert.match((await a.ok('CAPABILITY')).untagged[0]!, / NOTIFY/);
    const supported =
      '(MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange)';
    for (const events of ['(AnnotationChange)', '(MessageNew MessageExpunge Frobnicate)']) {
      const done = await a.command(`NOTIFY SET (personal ${events})`);
      assert.equal(done.status, `NO [BADEVENT ${supported}] Unsupported event`, events);
    }
    for (const [line, why] of [
      ['NOTIFY SET (personal (MessageNew))', /MessageNew and MessageExpunge go together/],
      ['NOTIFY SET (personal (FlagChange))', /FlagChange needs MessageNew/],
      ['NOTIFY SET (selected (MailboxName))', /message events only/],
      ['NOTIFY SET (personal (MessageNew (UID) MessageExpunge))', /selected mailbox only/],
      ['NOTIFY SET (selected NONE) (selected-delayed NONE)', /Only one SELECTED/],
      ['NOTIFY SET (elsewhere (MessageNew MessageExpunge))', /Unknown mailbox filter/],
      ['NOTIFY FROB', /Expected SET/],
    ] as const) {
      assert.match((await a.command(line)).status, why, line);
    }
    await a.ok('NOTIFY NONE');
  });

  test('STATUS for other mailboxes, at SET STATUS and as they change, between commands', async () => {
    const account = await gateway.account('status');
    const a = await gateway.session(account);
    const b = await gateway.session(account);
    await a.ok('SELECT INBOX');
    // SET STATUS: every mailbox the filter covers except the selected one, at once.
    const { untagged: set } = await a.ok(
      'NOTIFY SET STATUS (selected (MessageNew MessageExpunge)) (personal (MessageNew MessageExpunge))',
    );
    assert.ok(
      set.some((l) => /^\* STATUS Sent \(MESSAGES 0 UIDNEXT 1 UIDVALIDITY \d+ UNSEEN 0\)$/.test(l)),
      set.join('\n'),
    );
    assert.ok(!set.some((l) => l.startsWith('* STATUS INBOX')), set.join('\n'));

    const from = a.written.length;
    await b.append('Sent', rawMessage('to sent'));
    const seen = await a.waitFor(
      /\* STATUS Sent \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)\r\n/,
      from,
    );
    assert.doesNotMatch(seen, /^t\d+ /m, 'no command of A was running');

    // CONDSTORE adds HIGHESTMODSEQ; an expunge is reported too.
    await a.ok('ENABLE CONDSTORE');
    const from2 = a.written.length;
    await b.ok('SELECT Sent');
    await b.ok('STORE 1 +FLAGS (\\Deleted)');
    await b.ok('EXPUNGE');
    await a.waitFor(
      /\* STATUS Sent \(MESSAGES 0 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 0 HIGHESTMODSEQ \d+\)\r\n/,
      from2,
    );
  });

  test('the selected mailbox: EXISTS with MessageNew fetch attributes, EXPUNGE at once under SELECTED', async () => {
    const account = await gateway.account('selected');
    const a = await gateway.session(account);
    const b = await gateway.session(account);
    await a.ok('SELECT INBOX');
    await a.ok(
      'NOTIFY SET (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (Subject)] FLAGS) MessageExpunge FlagChange))',
    );
    let from = a.written.length;
    await b.append('INBOX', rawMessage('Hello there'));
    const arrived = await a.waitFor(
      /\* 1 FETCH \(UID 1 BODY\[HEADER\.FIELDS \(Subject\)\] \{\d+\}\r\nSubject: Hello there\r\n\r\n FLAGS \(\\Recent\)\)\r\n/,
      from,
    );
    assert.match(arrived, /^\* 1 EXISTS\r\n/);
    // The notification did not set \Seen.
    assert.deepEqual(await b.ok('SELECT INBOX').then(async () => (await b.ok('FETCH 1 FLAGS')).untagged), [
      '* 1 FETCH (FLAGS ())',
    ]);

    from = a.written.length;
    await b.ok('STORE 1 +FLAGS (\\Flagged)');
    await a.waitFor(/\* 1 FETCH \(UID 1 FLAGS \(\\Flagged \\Recent\)\)\r\n/, from);

    from = a.written.length;
    await b.ok('STORE 1 +FLAGS (\\Deleted)');
    await b.ok('EXPUNGE');
    // SELECTED: the EXPUNGE goes out with no command of A in progress.
    await a.waitFor(/\* 1 EXPUNGE\r\n/, from);
    assert.deepEqual((await a.ok('NOOP')).untagged, []);
  });

  test('SELECTED-DELAYED holds EXPUNGE until a command that allows it', async () => {
    const account = await gateway.account('delayed');
    const a = await gateway.session(account);
    const b = await gateway.session(account);
    await b.append('INBOX', rawMessage('one'));
    await b.append('INBOX', rawMessage('two'));
    await a.ok('SELECT INBOX');
    await a.ok('NOTIFY SET (selected-delayed (MessageNew MessageExpunge))');
    await b.ok('SELECT INBOX');
    let from = a.written.length;
    await b.append('INBOX', rawMessage('three'));
    await a.waitFor(/\* 3 EXISTS\r\n/, from);
    from = a.written.length;
    await b.ok('STORE 1 +FLAGS (\\Deleted)');
    const expunged = await gateway.changeSeen(account, 'expunge');
    await b.ok('EXPUNGE');
    await expunged();
    // Not between commands, nor during FETCH (RFC 9051 7.5.1); NOOP then carries it.
    const fetched = await a.command('FETCH 2 UID');
    assert.deepEqual(fetched.untagged, ['* 2 FETCH (UID 2)']);
    assert.doesNotMatch(a.written.slice(from), /EXPUNGE/);
    assert.deepEqual((await a.ok('NOOP')).untagged, ['* 1 EXPUNGE']);
  });

  test('MailboxName and SubscriptionChange as LIST; metadata changes as METADATA', async () => {
    const account = await gateway.account('names');
    const a = await gateway.session(account);
    const b = await gateway.session(account);
    await a.ok(
      'NOTIFY SET (personal (MailboxName SubscriptionChange MailboxMetadataChange)) (subtree Archive (MessageNew MessageExpunge)) (inboxes (ServerMetadataChange))',
    );
    const steps: Array<[string, RegExp]> = [
      ['CREATE Projects', /\* LIST \(\) "\/" Projects\r\n/],
      ['RENAME Projects Work', /\* LIST \(\) "\/" Work \("OLDNAME" \(Projects\)\)\r\n/],
      ['SUBSCRIBE Work', /\* LIST \(\\Subscribed\) "\/" Work\r\n/],
      ['UNSUBSCRIBE Work', /\* LIST \(\) "\/" Work\r\n/],
      [
        'SETMETADATA INBOX (/shared/comment "x" /private/note "y")',
        /\* METADATA INBOX \/private\/note \/shared\/comment\r\n/,
      ],
      ['SETMETADATA "" (/shared/motd "hi")', /\* METADATA "" \/shared\/motd\r\n/],
      ['DELETE Work', /\* LIST \(\\NonExistent\) "\/" Work\r\n/],
    ];
    for (const [line, expected] of steps) {
      const from = a.written.length;
      await b.ok(line);
      await a.waitFor(expected, from);
    }
    // B's own changes are not told back to B.
    assert.doesNotMatch(b.written, /\* LIST|\* METADATA/);
  });

  test('IDLE carries NOTIFY updates; NOTIFY NONE stops them', async () => {
    const account = await gateway.account('idle');
    const a = await gateway.session(account);
    const b = await gateway.session(account);
    await a.ok('SELECT INBOX');
    await a.ok('NOTIFY SET (personal (MessageNew MessageExpunge))');
    const idle = a.start('IDLE');
    await a.waitFor(/\+ idling\r\n/, idle.from);
    await b.append('Drafts', rawMessage('draft'));
    await a.waitFor(/\* STATUS Drafts \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)\r\n/, idle.from);
    a.sendLine('DONE');
    assert.match((await idle.done).status, /^OK/);

    await a.ok('NOTIFY NONE');
    const from = a.written.length;
    const appended = await gateway.changeSeen(account, 'append');
    await b.append('Drafts', rawMessage('another'));
    await appended();
    assert.deepEqual((await a.ok('NOOP')).untagged, []);
    assert.doesNotMatch(a.written.slice(from), /STATUS/);
  });

  test('a flood of changes ends in [NOTIFICATIONOVERFLOW], not unbounded memory', async () => {
    const small = await InProcessGateway.open({ notifyMaxPending: 16 });
    try {
      const account = await small.account('flood');
      const a = await small.session(account);
      const b = await small.session(account);
      await a.ok('NOTIFY SET (personal (MailboxMetadataChange))');
      // 40 new entries at once are more than the 16 a session may hold.
      const idle = a.start('IDLE');
      await a.waitFor(/\+ idling\r\n/, idle.from);
      const entries = Array.from({ length: 40 }, (_, i) => `/private/e${i} "v"`).join(' ');
      await b.ok(`SETMETADATA INBOX (${entries})`);
      await a.waitFor(/\* OK \[NOTIFICATIONOVERFLOW\]/, idle.from);
      a.sendLine('DONE');
      await idle.done;
      assert.equal(a.session.notifications, null);
    } finally {
      await small.close();
    }
  });
});

describe('NOTIFY across two gateways (Redis fan-out)', () => {
  let stack: ImapTestStack;
  let podA: ImapGateway;
  let podB: ImapGateway;
  before(async () => {
    stack = await ImapTestStack.create('distributed');
    podA = await stack.gateway();
    podB = await stack.gateway();
  });
  after(async () => stack.close());

  test('a raw transcript: a delivery and a CREATE on pod B reach pod A unasked', async () => {
    const account = await stack.account('pods');
    const a = await LineClient.imapLogin(podA.ports.imap, account.address, stack.password);
    const b = await LineClient.imapLogin(podB.ports.imap, account.address, stack.password);
    try {
      let done = await a.command('NOTIFY SET (inboxes (MessageNew MessageExpunge)) (personal (MailboxName))');
      assert.equal(done.status, 'OK NOTIFY completed');
      await stack.deliver(account.accountId, account.address, rawMessage('over redis'));
      assert.match(await a.readLine(), /^\* STATUS INBOX \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)$/);
      done = await b.command('CREATE Later');
      assert.match(done.status, /^OK \[MAILBOXID \(F[0-9]+\)\] CREATE completed$/);
      assert.equal(await a.readLine(), '* LIST () "/" Later');
    } finally {
      a.destroy();
      b.destroy();
    }
  });
});
