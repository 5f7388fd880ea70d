export * from './port.js';
export { createS3BlobStore } from './s3-store.js';
export type { S3BlobStore, S3BlobStoreOptions } from './s3-store.js';
export { createFsBlobStore } from './fs-store.js';
export type { FsBlobStoreOptions } from './fs-store.js';
export { withOtherBodies, type BodyLookup } from './other-bodies.js';
