import { createHash } from 'node:crypto';
import { clientEndpoints, type ClientSettings } from './settings.js';

const PLIST_DOCTYPE =
  '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n';

/**
 * A stable UUID (version 5 layout) from a name: downloading the profile again for the same account gives
 * the same identifiers, so iOS/macOS replace the installed profile instead of adding a second account.
 */
function stableUuid(name: string): string {
  const bytes = createHash('sha1').update(`correo-mobileconfig:${name}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`.toUpperCase();
}

type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

/**
 * Plist XML by hand: a dict is alternating <key>/<value> siblings in order, which the XML builder used
 * elsewhere here cannot express; text is escaped the same way.
 */
function plist(value: PlistValue): string {
  if (typeof value === 'string') return `<string>${escapeText(value)}</string>`;
  if (typeof value === 'number') return `<integer>${Math.trunc(value)}</integer>`;
  if (typeof value === 'boolean') return value ? '<true/>' : '<false/>';
  if (Array.isArray(value)) return `<array>${value.map(plist).join('')}</array>`;
  const entries = Object.entries(value).map(([key, item]) => `<key>${escapeText(key)}</key>${plist(item)}`);
  return `<dict>${entries.join('')}</dict>`;
}

function escapeText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * An Apple configuration profile (.mobileconfig) with one mail account for `address`: the preferred
 * incoming server (IMAP if offered, else POP3) and submission, password asked on install (never in the
 * file), TLS on both.
 */
export function appleMobileconfig(address: string, displayName: string, settings: ClientSettings): string {
  const endpoints = clientEndpoints(settings);
  const incoming = endpoints.find((e) => e.protocol !== 'smtp');
  const outgoing = endpoints.find((e) => e.protocol === 'smtp');
  if (!incoming || !outgoing) throw new Error('client settings offer no incoming or no submission endpoint');
  const domain = address.slice(address.lastIndexOf('@') + 1);
  const reverseDomain = domain.split('.').reverse().join('.');
  const account: PlistValue = {
    EmailAccountDescription: address,
    EmailAccountName: displayName,
    EmailAccountType: incoming.protocol === 'imap' ? 'EmailTypeIMAP' : 'EmailTypePOP',
    EmailAddress: address,
    IncomingMailServerAuthentication: 'EmailAuthPassword',
    IncomingMailServerHostName: settings.hostname,
    IncomingMailServerPortNumber: incoming.port,
    IncomingMailServerUseSSL: true,
    IncomingMailServerUsername: address,
    OutgoingMailServerAuthentication: 'EmailAuthPassword',
    OutgoingMailServerHostName: settings.hostname,
    OutgoingMailServerPortNumber: outgoing.port,
    OutgoingMailServerUseSSL: true,
    OutgoingMailServerUsername: address,
    OutgoingPasswordSameAsIncomingPassword: true,
    PayloadDescription: `Mail account ${address}`,
    PayloadDisplayName: address,
    PayloadIdentifier: `${reverseDomain}.correo.mail.${stableUuid(address)}`,
    PayloadType: 'com.apple.mail.managed',
    PayloadUUID: stableUuid(`${address}/mail`),
    PayloadVersion: 1,
  };
  const profile: PlistValue = {
    PayloadContent: [account],
    PayloadDescription: `Sets up the mail account ${address}`,
    PayloadDisplayName: `${domain} mail`,
    PayloadIdentifier: `${reverseDomain}.correo.profile.${stableUuid(address)}`,
    PayloadRemovalDisallowed: false,
    PayloadType: 'Configuration',
    PayloadUUID: stableUuid(`${address}/profile`),
    PayloadVersion: 1,
  };
  return `<?xml version="1.0" encoding="UTF-8"?>\n${PLIST_DOCTYPE}<plist version="1.0">${plist(profile)}</plist>\n`;
}
