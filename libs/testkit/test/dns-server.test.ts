import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { Resolver } from 'node:dns/promises';
import { startDnsServer } from '../src/dns-server.js';

test('a TCP port already taken is skipped, not waited on forever', async () => {
  // Someone else holds the TCP side of the first port tried (outgoing connections share the range).
  const squatter: Server = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  const taken = (squatter.address() as { port: number }).port;
  try {
    const dns = await startDnsServer({ 'mx.example.test': { A: ['192.0.2.7'] } }, { firstPorts: [taken] });
    try {
      assert.notEqual(dns.port, taken);
      const resolver = new Resolver();
      resolver.setServers([dns.address]);
      assert.deepEqual(await resolver.resolve4('mx.example.test'), ['192.0.2.7']);
    } finally {
      await dns.close();
    }
  } finally {
    squatter.close();
  }
});

test('a SERVFAIL name fails every lookup temporarily; an unknown name is NXDOMAIN', async () => {
  const dns = await startDnsServer({ 'broken.example.test': { SERVFAIL: true } });
  try {
    const resolver = new Resolver({ tries: 1 });
    resolver.setServers([dns.address]);
    await assert.rejects(resolver.resolveTxt('broken.example.test'), { code: 'ESERVFAIL' });
    await assert.rejects(resolver.resolveTxt('absent.example.test'), { code: 'ENOTFOUND' });
  } finally {
    await dns.close();
  }
});

test('a silent name goes unanswered, so lookups time out, until it is given records', async () => {
  const dns = await startDnsServer({ 'silent.example.test': { silent: true } });
  try {
    const resolver = new Resolver({ timeout: 200, tries: 1 });
    resolver.setServers([dns.address]);
    await assert.rejects(resolver.resolveMx('silent.example.test'), { code: 'ETIMEOUT' });
    dns.set('silent.example.test', { MX: [{ exchange: 'mx.example.test', priority: 5 }] });
    const answer = await resolver.resolveMx('silent.example.test');
    assert.deepEqual(
      answer.map(({ exchange, priority }) => ({ exchange, priority })),
      [{ exchange: 'mx.example.test', priority: 5 }],
    );
  } finally {
    await dns.close();
  }
});
