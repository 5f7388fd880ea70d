import type { FastifyInstance, FastifyReply } from 'fastify';
import { autodiscoverError, autodiscoverRequestAddress, autodiscoverResponse } from './autodiscover.js';
import { mtaStsPolicy } from './dns-records.js';
import type { ClientSettings } from './settings.js';
import { thunderbirdConfig } from './thunderbird.js';

export interface AutoconfigRouteOptions {
  settings: ClientSettings;
  /** Whether this deployment serves (and has verified) the domain: nothing is described for others. */
  isServedDomain(domain: string): Promise<boolean>;
}

// An autodiscover request is a few hundred bytes; anything near this is not one.
const AUTODISCOVER_BODY_LIMIT = 16 * 1024;
const DOMAIN_PATTERN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;

/** A domain name from user input in its canonical form, or undefined when it cannot be one. */
function domainName(input: string | undefined): string | undefined {
  const name = input?.trim().toLowerCase().replace(/\.$/, '');
  return name !== undefined && DOMAIN_PATTERN.test(name) ? name : undefined;
}

function addressDomain(address: string | undefined): string | undefined {
  if (address === undefined || address.length > 320) return undefined;
  const at = address.lastIndexOf('@');
  return at > 0 ? domainName(address.slice(at + 1)) : undefined;
}

/** The domain in a Host header of the form `<prefix>.<domain>[:port]`. */
function hostDomain(host: string | undefined, prefix: string): string | undefined {
  const name = host?.replace(/:\d+$/, '').toLowerCase();
  return name?.startsWith(`${prefix}.`) ? domainName(name.slice(prefix.length + 1)) : undefined;
}

/**
 * The public, unauthenticated routes mail clients and sending MTAs ask before they know anything:
 * Thunderbird autoconfig, Outlook POX autodiscover and the MTA-STS policy. They describe only domains
 * this deployment serves and answer 404 for any other, so the host is no oracle for foreign names.
 */
export async function autoconfigRoutes(app: FastifyInstance, options: AutoconfigRouteOptions): Promise<void> {
  const { settings, isServedDomain } = options;
  const notServed = (reply: FastifyReply) =>
    reply
      .code(404)
      .send({ error: 'not_found', message: 'This server does not provide mail for that domain.' });

  app.addContentTypeParser(
    ['text/xml', 'application/xml'],
    { parseAs: 'string', bodyLimit: AUTODISCOVER_BODY_LIMIT },
    (_request, body, done) => done(null, body),
  );

  const thunderbird = async (
    request: { query: { emailaddress?: string }; headers: { host?: string } },
    reply: FastifyReply,
  ) => {
    const domain =
      addressDomain(request.query.emailaddress) ?? hostDomain(request.headers.host, 'autoconfig');
    if (domain === undefined || !(await isServedDomain(domain))) return notServed(reply);
    return reply
      .header('content-type', 'application/xml; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(thunderbirdConfig(domain, settings));
  };
  const thunderbirdSchema = {
    querystring: {
      type: 'object',
      properties: { emailaddress: { type: 'string', maxLength: 320 } },
    },
  };
  app.get<{ Querystring: { emailaddress?: string } }>(
    '/.well-known/autoconfig/mail/config-v1.1.xml',
    { schema: thunderbirdSchema },
    thunderbird,
  );
  app.get<{ Querystring: { emailaddress?: string } }>(
    '/mail/config-v1.1.xml',
    { schema: thunderbirdSchema },
    thunderbird,
  );

  const autodiscover = async (request: { body: unknown }, reply: FastifyReply) => {
    const address = typeof request.body === 'string' ? autodiscoverRequestAddress(request.body) : undefined;
    const domain = addressDomain(address);
    reply.header('content-type', 'application/xml; charset=utf-8');
    if (address === undefined) return reply.code(400).send(autodiscoverError());
    if (domain === undefined || !(await isServedDomain(domain)))
      return reply.code(404).send(autodiscoverError());
    return reply.send(autodiscoverResponse(address, settings));
  };
  // Outlook varies the case of the path; both spellings in use are served.
  app.post('/autodiscover/autodiscover.xml', autodiscover);
  app.post('/Autodiscover/Autodiscover.xml', autodiscover);

  app.get('/.well-known/mta-sts.txt', async (request, reply) => {
    const domain = hostDomain(request.headers.host, 'mta-sts');
    if (domain === undefined || !(await isServedDomain(domain))) return notServed(reply);
    return reply
      .header('content-type', 'text/plain; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(mtaStsPolicy(settings));
  });
}
