import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LineClient } from '@correo/testkit';
import type { ImapGateway } from '../src/index.js';
import { ImapTestStack } from './helpers/stack.js';

/**
 * A subscription outlives its mailbox (RFC 9051 6.3.7: the server must not drop a subscribed name on its
 * own): LIST (SUBSCRIBED) shows it \NonExistent (RFC 5258 3, its example 5.3), LSUB \Noselect, until
 * UNSUBSCRIBE, or a CREATE of the name, which is then subscribed again.
 */
describe('subscribed names whose mailbox is gone', () => {
  let stack: ImapTestStack;
  let gateway: ImapGateway;
  let client: LineClient;

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    gateway = await stack.gateway();
    const { address } = await stack.account('subs');
    client = await LineClient.imapLogin(gateway.ports.imap, address, stack.password);
  });
  after(async () => {
    client.destroy();
    await stack.close();
  });

  async function ok(line: string): Promise<string[]> {
    const done = await client.command(line);
    assert.match(done.status, /^OK/, `${line}: ${done.status}`);
    return done.untagged;
  }

  test('DELETE keeps the subscription; LIST (SUBSCRIBED) and LSUB show it; CREATE and UNSUBSCRIBE end it', async () => {
    await ok('CREATE Fruit/Peach');
    await ok('CREATE Fruit/Banana');
    await ok('SUBSCRIBE Fruit/Peach');
    await ok('SUBSCRIBE Fruit/Banana');
    await ok('DELETE Fruit/Peach');

    assert.deepEqual(await ok('LIST (SUBSCRIBED) "" "Fruit/*"'), [
      '* LIST (\\HasNoChildren \\Subscribed) "/" Fruit/Banana',
      '* LIST (\\NonExistent \\Subscribed) "/" Fruit/Peach',
    ]);
    assert.deepEqual(await ok('LSUB "" "Fruit/*"'), [
      '* LSUB () "/" Fruit/Banana',
      '* LSUB (\\Noselect) "/" Fruit/Peach',
    ]);
    // Plain LIST lists mailboxes: the deleted one is not among them.
    assert.deepEqual(await ok('LIST "" "Fruit/*"'), ['* LIST (\\HasNoChildren) "/" Fruit/Banana']);
    assert.deepEqual(await ok('LIST (SUBSCRIBED) "" "Veg*"'), []);

    // Created again under the subscribed name: it is a subscribed mailbox once more.
    await ok('CREATE Fruit/Peach');
    assert.deepEqual(await ok('LIST (SUBSCRIBED) "" "Fruit/Peach"'), [
      '* LIST (\\HasNoChildren \\Subscribed) "/" Fruit/Peach',
    ]);
    await ok('DELETE Fruit/Peach');
    await ok('UNSUBSCRIBE Fruit/Peach');
    assert.deepEqual(await ok('LIST (SUBSCRIBED) "" "Fruit/*"'), [
      '* LIST (\\HasNoChildren \\Subscribed) "/" Fruit/Banana',
    ]);
    assert.match((await client.command('UNSUBSCRIBE Fruit/Peach')).status, /^NO \[NONEXISTENT\]/);
  });

  test('RENAME onto a name still subscribed subscribes the renamed mailbox', async () => {
    await ok('CREATE Old');
    await ok('SUBSCRIBE Old');
    await ok('DELETE Old');
    await ok('CREATE Other');
    await ok('RENAME Other Old');
    assert.deepEqual(await ok('LIST (SUBSCRIBED) "" "Old"'), [
      '* LIST (\\HasNoChildren \\Subscribed) "/" Old',
    ]);
  });
});
