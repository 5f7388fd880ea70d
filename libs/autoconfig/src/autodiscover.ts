import { XMLParser } from 'fast-xml-parser';
import { clientEndpoints, type ClientSettings } from './settings.js';
import { xmlDocument } from './xml.js';

const REQUEST_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006';
const RESPONSE_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';
const OUTLOOK_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';

// No entities, no DOCTYPE processing: an autodiscover body is anonymous input from the internet, so
// nothing in it may expand (billion laughs) or reach outside the document (XXE).
const parser = new XMLParser({
  removeNSPrefix: true,
  processEntities: false,
  ignoreDeclaration: true,
  ignoreAttributes: true,
});

// A dot-atom local part (RFC 5322 atext) and a domain: the only addresses a correo account can have.
const ADDRESS = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9.-]+$/;

/** The address an Outlook POX autodiscover request asks about, or undefined when the body is not one. */
export function autodiscoverRequestAddress(body: string): string | undefined {
  // A real request never carries a DTD; refusing one outright leaves no entity to expand or resolve.
  if (/<!DOCTYPE/i.test(body)) return undefined;
  let document: unknown;
  try {
    document = parser.parse(body, true);
  } catch {
    return undefined;
  }
  const address = (document as { Autodiscover?: { Request?: { EMailAddress?: unknown } } } | undefined)
    ?.Autodiscover?.Request?.EMailAddress;
  return typeof address === 'string' && ADDRESS.test(address.trim()) ? address.trim() : undefined;
}

/** The POX answer: one email account with its IMAP/POP3 and SMTP settings, login by full address. */
export function autodiscoverResponse(address: string, settings: ClientSettings): string {
  const protocols = clientEndpoints(settings).map((endpoint) => ({
    Type: endpoint.protocol.toUpperCase(),
    Server: settings.hostname,
    Port: endpoint.port,
    LoginName: address,
    DomainRequired: 'off',
    SPA: 'off',
    // Outlook reads SSL=on as implicit TLS; Encryption=TLS asks for STARTTLS.
    ...(endpoint.tls === 'implicit' ? { SSL: 'on' } : { SSL: 'on', Encryption: 'TLS' }),
    AuthRequired: 'on',
  }));
  return xmlDocument({
    Autodiscover: {
      '@xmlns': RESPONSE_SCHEMA,
      Response: {
        '@xmlns': OUTLOOK_SCHEMA,
        Account: { AccountType: 'email', Action: 'settings', Protocol: protocols },
      },
    },
  });
}

/** The POX error answer for an address this deployment does not serve (Outlook then tries elsewhere). */
export function autodiscoverError(): string {
  return xmlDocument({
    Autodiscover: {
      '@xmlns': RESPONSE_SCHEMA,
      Response: {
        Error: { ErrorCode: 600, Message: 'Invalid Request', DebugData: '' },
      },
    },
  });
}

export { REQUEST_SCHEMA as AUTODISCOVER_REQUEST_SCHEMA };
