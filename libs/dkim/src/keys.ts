import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const generate = promisify(generateKeyPair);

export interface DkimKeyPair {
  /** PKCS#8 PEM, as dkim_keys.private_key stores it. */
  privateKey: string;
  /** Base64 DER SubjectPublicKeyInfo: the p= value of the DNS record. */
  publicKey: string;
}

/** RSA 2048: the size RFC 8301 recommends and every verifier accepts (ed25519 is not yet universal). */
export async function generateDkimKeyPair(): Promise<DkimKeyPair> {
  const { privateKey, publicKey } = await generate('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'der' },
  });
  return { privateKey, publicKey: publicKey.toString('base64') };
}

/**
 * A fresh selector per key, so a rotated key gets its own DNS name and the old record can stay
 * published until mail signed with it has been verified: `c<yyyymmdd><4 hex>`.
 */
export function newSelector(now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '');
  return `c${day}${randomBytes(2).toString('hex')}`;
}

export interface DkimDnsRecord {
  /** The owner name: <selector>._domainkey.<domain>. */
  name: string;
  type: 'TXT';
  /** The record text (RFC 6376 section 3.6.1). */
  value: string;
  /** The same text cut into strings of at most 255 octets, as a TXT record must carry it. */
  strings: string[];
}

export function dkimDnsRecord(domain: string, selector: string, publicKey: string): DkimDnsRecord {
  const value = `v=DKIM1; k=rsa; p=${publicKey}`;
  const strings: string[] = [];
  for (let i = 0; i < value.length; i += 255) strings.push(value.slice(i, i + 255));
  return { name: `${selector}._domainkey.${domain}`, type: 'TXT', value, strings };
}
