import type { Readable } from 'node:stream';
import { dkimSign } from 'mailauth';
import type { SigningKey } from './key-store.js';

/**
 * The DKIM-Signature header field (with its CRLF) for a raw message, to prepend before sending.
 * relaxed/relaxed survives the re-folding and whitespace changes relays commonly make.
 */
export async function dkimSignatureHeader(raw: Buffer | Readable, key: SigningKey): Promise<string> {
  const result = await dkimSign(raw, {
    canonicalization: 'relaxed/relaxed',
    algorithm: key.algorithm,
    signatureData: [{ signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey }],
  } as Parameters<typeof dkimSign>[1]);
  if (result.errors.length > 0) {
    throw new Error(
      `DKIM signing for ${key.domain} failed: ${result.errors.map((e) => e.err.message).join('; ')}`,
    );
  }
  return result.signatures;
}
