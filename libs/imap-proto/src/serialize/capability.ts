import { atom, untagged } from './encoder.js';

/** "* CAPABILITY IMAP4rev2 IMAP4rev1 ...". */
export function capabilityResponse(capabilities: string[]): Buffer {
  return untagged([atom('CAPABILITY'), ...capabilities.map(atom)]);
}

/** "* ENABLED CONDSTORE ..." (RFC 5161): only the extensions this ENABLE newly turned on. */
export function enabledResponse(capabilities: string[]): Buffer {
  return untagged([atom('ENABLED'), ...capabilities.map(atom)]);
}
