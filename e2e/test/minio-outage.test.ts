import { createS3BlobStore } from '@correo/blobs';
import { startPrivateMinio } from '@correo/testkit';
import { backendOutageUnderLoad } from './support/backend-outage.js';

// A MinIO of this test's own: the blob store vanishes (connection refused) while events wait.
// Messages up to 1 MiB are filed from the analysis carried in their event and never read from S3
// again, so an S3 outage does not stall them; past that the mda reads the blob, the path this
// outage must meet. Hence bodies over the cap.
backendOutageUnderLoad(
  'S3 (MinIO)',
  async () => {
    const minio = await startPrivateMinio();
    const bucket = 'correo-outage';
    const credentials = { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey };
    const blobs = createS3BlobStore({
      endpoint: minio.endpoint,
      region: 'us-east-1',
      bucket,
      ...credentials,
    });
    await blobs.ensureBucket();
    await blobs.close();
    return {
      env: {
        S3_ENDPOINT: minio.endpoint,
        S3_BUCKET: bucket,
        S3_ACCESS_KEY_ID: minio.accessKeyId,
        S3_SECRET_ACCESS_KEY: minio.secretAccessKey,
      },
      stop: () => minio.stop(),
      start: () => minio.start(),
      close: () => minio.close(),
    };
  },
  { bodyBytes: 1_100_000 }, // smtp-ingress's CARRIED_ANALYSIS_MAX_MESSAGE_BYTES is 1 MiB
);
