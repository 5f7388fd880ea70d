/** Where a content-addressed blob lives, shared by every adapter: `sha256/<first two hex>/<hash>`. */
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** True only for a lowercase SHA-256 hex key; anything else cannot name a blob (and never a path). */
export function isBlobKey(key: string): boolean {
  return SHA256_HEX.test(key);
}

/** The folder (fs) or key prefix (S3) every blob lives under. */
export const BLOB_ROOT = 'sha256/';

export function blobPath(key: string): string {
  return `${BLOB_ROOT}${key.slice(0, 2)}/${key}`;
}
