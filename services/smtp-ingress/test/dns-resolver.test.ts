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

  const servers = () => [`127.0.0.1:${silent.address().port}`];

  test('a failed lookup is answered from the cache while SMTP_DNS_FAILURE_CACHE_MS lasts (RFC 9520)', async () => {
    const lookup = createDnsLookup({
      servers: servers(),
      timeoutMs: 100,
      cacheTtlMs: 60_000,
      failureCacheMs: 60_000,
    });
    const before = queries;
    assert.equal(await failure(lookup('_dmarc.remote.test', 'TXT')), 'ETIMEOUT');
    const asked = queries - before;
    assert.ok(asked >= 1, 'the first lookup asked the server');
    assert.equal(await failure(lookup('_dmarc.REMOTE.test', 'TXT')), 'ETIMEOUT');
    assert.equal(queries - before, asked, 'the second lookup was not asked again');
    // Another name or record type is its own lookup.
    assert.equal(await failure(lookup('remote.test', 'TXT')), 'ETIMEOUT');
    assert.ok(queries - before > asked, 'another name is asked');
  });

  test('with SMTP_DNS_FAILURE_CACHE_MS=0 every lookup asks again', async () => {
    const lookup = createDnsLookup({
      servers: servers(),
      timeoutMs: 100,
      cacheTtlMs: 60_000,
      failureCacheMs: 0,
    });
    const before = queries;
    assert.equal(await failure(lookup('again.test', 'TXT')), 'ETIMEOUT');
    const asked = queries - before;
    assert.equal(await failure(lookup('again.test', 'TXT')), 'ETIMEOUT');
    assert.ok(queries - before > asked, 'the failure was not kept');
  });
});
