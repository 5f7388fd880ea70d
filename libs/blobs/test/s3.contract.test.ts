import {
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { testBackends, uniqueName } from '@correo/testkit';
import { createS3BlobStore } from '../src/s3-store.js';
import { blobContract } from './contract.js';

blobContract('s3', async () => {
  const { s3 } = testBackends();
  const keyPrefix = `${uniqueName('blobs')}/`;
  const store = createS3BlobStore({ ...s3, keyPrefix });
  await store.ensureBucket();
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });

  async function keysUnder(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
      token = page.NextContinuationToken;
    } while (token);
    return keys;
  }

  return {
    store,
    unreachable() {
      // Port 1 on loopback refuses at once; one attempt keeps the test quick.
      return createS3BlobStore({ ...s3, endpoint: 'http://127.0.0.1:1', maxAttempts: 1 });
    },
    async temporaryLeftovers() {
      const objects = await keysUnder(`${keyPrefix}tmp/`);
      const uploads = await client.send(
        new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: `${keyPrefix}tmp/` }),
      );
      return [...objects, ...(uploads.Uploads ?? []).map((u) => `multipart:${u.Key}`)];
    },
    async dispose() {
      try {
        const keys = await keysUnder(keyPrefix);
        if (keys.length > 0) {
          await client.send(
            new DeleteObjectsCommand({
              Bucket: s3.bucket,
              Delete: { Objects: keys.map((Key) => ({ Key })) },
            }),
          );
        }
      } finally {
        client.destroy();
      }
    },
  };
});
