import { Resolver } from 'node:dns/promises';
import type { TxtLookup } from '@correo/directory';

/**
 * TXT lookups for domain verification through ADMIN_DNS_SERVERS (the system's resolvers when empty):
 * one string per record, its 255-octet character-strings joined (RFC 7208 3.3 reads them the same way).
 */
export function txtLookup(servers: string[], timeoutMs = 5_000): TxtLookup {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (servers.length > 0) resolver.setServers(servers);
  return async (name) => (await resolver.resolveTxt(name)).map((strings) => strings.join(''));
}
