import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { createDnsLookup } from '../src/dns-resolver.js';

/** The code a lookup failed with (ETIMEOUT against a server that never answers). */
async function failure(lookup: Promise<unknown>): Promise<string> {
  try {
    await lookup;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
  assert.fail('the lookup should have failed');
}

describe('the sender checks resolver against a DNS server that never answers', () => {
  let silent: Socket;
  let queries = 0;

  before(async () => {
    // A real UDP socket on loopback that counts and swallows every query: lookups time out.
    silent = createSocket('udp4');
    silent.on('message', () => queries++);
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  });
  after(() => silent?.close());

  const lookupFailingFor = (failureCacheMs: number) =>
    createDnsLookup({
      servers: [`127.0.0.1:${silent.address().port}`],
      timeoutMs: 100,
      cacheTtlMs: 60_000,
      failureCacheMs,
    });

  /** How many queries the server saw while `name` failed with ETIMEOUT. */
  async function askedFor(lookup: ReturnType<typeof createDnsLookup>, name: string): Promise<number> {
    const before = queries;
    assert.equal(await failure(lookup(name, 'TXT')), 'ETIMEOUT');
    return queries - before;
  }

  test('a failed lookup is answered from the cache while SMTP_DNS_FAILURE_CACHE_MS lasts (RFC 9520)', async () => {
    const lookup = lookupFailingFor(60_000);
    assert.ok((await askedFor(lookup, '_dmarc.remote.test')) >= 1, 'the first lookup asked the server');
    assert.equal(await askedFor(lookup, '_dmarc.REMOTE.test'), 0, 'the second lookup was not asked again');
    // Another name is its own lookup.
    assert.ok((await askedFor(lookup, 'remote.test')) >= 1, 'another name is asked');
  });

  test('with SMTP_DNS_FAILURE_CACHE_MS=0 every lookup asks again', async () => {
    const lookup = lookupFailingFor(0);
    assert.ok((await askedFor(lookup, 'again.test')) >= 1);
    assert.ok((await askedFor(lookup, 'again.test')) >= 1, 'the failure was not kept');
  });
});
