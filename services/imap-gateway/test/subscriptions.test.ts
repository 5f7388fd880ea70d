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

  test('DELETE keeps the subscription; LIST (SUBSCRIBED) and LSUB show it; CREATE and UNSUBSCRIBE end it', async () => {
    await client.commandOk('CREATE Fruit/Peach');
    await client.commandOk('CREATE Fruit/Banana');
    await client.commandOk('SUBSCRIBE Fruit/Peach');
    await client.commandOk('SUBSCRIBE Fruit/Banana');
    await client.commandOk('DELETE Fruit/Peach');

    assert.deepEqual(await client.commandOk('LIST (SUBSCRIBED) "" "Fruit/*"'), [
      '* LIST (\\HasNoChildren \\Subscribed) "/" Fruit/Banana',
      '* LIST (\\NonExistent \\Subscribed) "/" Fruit/Peach',
    ]);
    assert.deepEqual(await client.commandOk('LSUB "" "Fruit/*"'), [
      '* LSUB () "/" Fruit/Banana',
      '* LSUB (\\Noselect) "/" Fruit/Peach',
    ]);
    // RFC 5258 example 5.3: an existing parent whose one subscribed child is gone has CHILDINFO.
    await client.commandOk('CREATE Herb/Basil');
    await client.commandOk('SUBSCRIBE Herb/Basil');
    await client.commandOk('DELETE Herb/Basil');
    assert.deepEqual(await client.commandOk('LIST (SUBSCRIBED RECURSIVEMATCH) "" "He%"'), [
      '* LIST (\\HasNoChildren) "/" Herb ("CHILDINFO" ("SUBSCRIBED"))',
    ]);
    assert.deepEqual(await client.commandOk('LSUB "" "He%"'), ['* LSUB (\\Noselect) "/" Herb']);
    // Plain LIST lists mailboxes: the deleted one is not among them.
    assert.deepEqual(await client.commandOk('LIST "" "Fruit/*"'), [
      '* LIST (\\HasNoChildren) "/" Fruit/Banana',
    ]);
    assert.deepEqual(await client.commandOk('LIST (SUBSCRIBED) "" "Veg*"'), []);

    // Created again under the subscribed name: it is a subscribed mailbox once more.
    await client.commandOk('CREATE Fruit/Peach');
    assert.deepEqual(await client.commandOk('LIST (SUBSCRIBED) "" "Fruit/Peach"'), [
      '* LIST (\\HasNoChildren \\Subscribed) "/" Fruit/Peach',
    ]);
    await client.commandOk('DELETE Fruit/Peach');
    await client.commandOk('UNSUBSCRIBE Fruit/Peach');
    assert.deepEqual(await client.commandOk('LIST (SUBSCRIBED) "" "Fruit/*"'), [
      '* LIST (\\HasNoChildren \\Subscribed) "/" Fruit/Banana',
    ]);
    assert.match((await client.command('UNSUBSCRIBE Fruit/Peach')).status, /^NO \[NONEXISTENT\]/);
  });

  test('RENAME onto a name still subscribed subscribes the renamed mailbox', async () => {
    await client.commandOk('CREATE Old');
    await client.commandOk('SUBSCRIBE Old');
    await client.commandOk('DELETE Old');
    await client.commandOk('CREATE Other');
    await client.commandOk('RENAME Other Old');
    assert.deepEqual(await client.commandOk('LIST (SUBSCRIBED) "" "Old"'), [
      '* LIST (\\HasNoChildren \\Subscribed) "/" Old',
    ]);
  });
});
