import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodePlainResponse } from '@correo/auth';
import type { LineClient } from '@correo/testkit';
import { STACK_KINDS } from '@correo/testkit/stack';
import { connectRaw, loggedIn, readResponse } from './helpers/raw-client.js';
import { ManageSieveTestStack } from './helpers/stack.js';

const LOGGED_IN = 'OK "Logged in"';
const LOGGED_OUT = 'OK "Logged out, authenticate again"';
const TOO_MANY = 'NO (TRYLATER) "Too many sessions for this account"';

// Both kinds: the slots across pods are leases in the limits store, in process (embedded) or in Redis.
for (const kind of STACK_KINDS) {
  describe(`ManageSieve per-account session slots after UNAUTHENTICATE (${kind})`, () => {
    let stack: ManageSieveTestStack;

    before(async () => {
      stack = await ManageSieveTestStack.create(kind);
    });
    after(() => stack.close());

    async function authenticate(client: LineClient, address: string): Promise<string> {
      client.writeLine(`AUTHENTICATE "PLAIN" "${encodePlainResponse(address, stack.password)}"`);
      return (await readResponse(client)).status;
    }

    async function unauthenticate(client: LineClient): Promise<string> {
      client.writeLine('UNAUTHENTICATE');
      return (await readResponse(client)).status;
    }

    test('one session per account: UNAUTHENTICATE gives the slot back while the connection stays open', async () => {
      const alice = (await stack.account('alice')).address;
      const bob = (await stack.account('bob')).address;
      const settings = { allowPlaintextAuthOnLoopback: true, maxConnectionsPerUser: 1 };
      // Two gateways over the same limits store, as two pods.
      const [first, second] = [await stack.startGateway(settings), await stack.startGateway(settings)];
      const returning = await loggedIn(first.port, alice, stack.password);
      const clients = [returning];
      try {
        assert.equal(await unauthenticate(returning), LOGGED_OUT);
        assert.equal(
          await authenticate(returning, alice),
          LOGGED_IN,
          'its own earlier login is not in the way',
        );
        assert.equal(await unauthenticate(returning), LOGGED_OUT);
        // Still open, now as another account: alice's slot is free for the other pod.
        assert.equal(await authenticate(returning, bob), LOGGED_IN);
        const elsewhere = (await connectRaw(second.port)).client;
        const here = (await connectRaw(first.port)).client;
        clients.push(elsewhere, here);
        assert.equal(await authenticate(elsewhere, alice), LOGGED_IN);
        assert.equal(await authenticate(here, alice), TOO_MANY, 'the cap still holds');
        // Logged out on the other pod: alice's slot is free on this one (its own count and the lease).
        assert.equal(await unauthenticate(elsewhere), LOGGED_OUT);
        assert.equal(await authenticate(here, alice), LOGGED_IN);
        assert.equal(
          await authenticate(elsewhere, bob),
          TOO_MANY,
          'bob is still held by the first connection',
        );
      } finally {
        for (const client of clients) client.destroy();
      }
    });
  });
}
