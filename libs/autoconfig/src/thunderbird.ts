import { clientEndpoints, type ClientSettings } from './settings.js';
import { xmlDocument } from './xml.js';

/**
 * Thunderbird's autoconfig file (clientConfig 1.1) for one domain, as served at
 * autoconfig.<domain>/mail/config-v1.1.xml and /.well-known/autoconfig/mail/config-v1.1.xml. The login
 * is the full address (%EMAILADDRESS%), which is what correo's login policy expects.
 */
export function thunderbirdConfig(domain: string, settings: ClientSettings): string {
  const server = (endpoint: ReturnType<typeof clientEndpoints>[number]) => ({
    '@type': endpoint.protocol,
    hostname: settings.hostname,
    port: endpoint.port,
    socketType: endpoint.tls === 'implicit' ? 'SSL' : 'STARTTLS',
    authentication: 'password-cleartext',
    username: '%EMAILADDRESS%',
  });
  const endpoints = clientEndpoints(settings);
  return xmlDocument({
    clientConfig: {
      '@version': '1.1',
      emailProvider: {
        '@id': domain,
        domain,
        displayName: `${domain} mail`,
        displayShortName: domain,
        incomingServer: endpoints.filter((e) => e.protocol !== 'smtp').map(server),
        outgoingServer: endpoints.filter((e) => e.protocol === 'smtp').map(server),
      },
    },
  });
}
