export { dkimDnsRecord, generateDkimKeyPair, newSelector } from './keys.js';
export type { DkimDnsRecord, DkimKeyPair } from './keys.js';
export { activeSigningKey, deleteDkimKey, listDkimKeys, rotateDkimKey } from './key-store.js';
export type { DkimKey, SigningKey } from './key-store.js';
export { dkimSignatureHeader } from './sign.js';
