import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BLOB_ROOT, blobPath, isBlobKey } from './blob-key.js';
import { DigestMeter } from './digest-meter.js';
import { BlobNotFoundError, BlobTooLargeError } from './port.js';
import type { BlobStore, ByteRange, PutOptions, StoredBlob } from './port.js';

export interface S3BlobStoreOptions {
  /** Omit for AWS; set for MinIO, Ceph and other S3-compatible servers. */
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** MinIO and most self-hosted servers need path-style URLs; defaults to true when an endpoint is set. */
  forcePathStyle?: boolean;
  /** Prepended to every object key, e.g. `tenant-a/`; lets several stores share one bucket. */
  keyPrefix?: string;
  /** SDK attempts per request (default 3); lower it where failing fast matters more than riding out blips. */
  maxAttempts?: number;
  /**
   * A request whose connection moves no byte for this long fails with a TimeoutError (a backend
   * failure: the bus retries it, SMTP answers 451), also while a body streams. Default 30 000, the
   * SDK's own for S3; a stalled S3 otherwise holds an SMTP DATA or an mda partition for up to
   * maxAttempts times this.
   */
  socketTimeoutMs?: number;
  /**
   * Told of every S3 request when it ends: the SDK command ("PutObject"), its seconds (retries
   * included; a GetObject until its headers, the body streams after) and whether it failed. The
   * process's metrics hang here (libs/backends), so this library stays free of them.
   */
  onRequest?: (operation: string, seconds: number, failed: boolean) => void;
}

export interface S3BlobStore extends BlobStore {
  readonly kind: 's3';
  /** Creates the bucket when it does not exist yet (tests and stack startup). */
  ensureBucket(): Promise<void>;
}

/** Parts are buffered in memory (partSize x queueSize), so keep both small: bodies are mail, not video. */
const PART_SIZE = 5 * 1024 * 1024;
const QUEUE_SIZE = 2;
/** Bodies up to this size go up in one PUT, held in memory meanwhile (bounded by the session caps). */
const SINGLE_PUT_BYTES = 1024 * 1024;

export function createS3BlobStore(options: S3BlobStoreOptions): S3BlobStore {
  const { bucket } = options;
  const prefix = options.keyPrefix ?? '';
  const where = `s3 bucket ${bucket}${options.endpoint ? ` at ${options.endpoint}` : ''}`;
  const client = new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    maxAttempts: options.maxAttempts,
    requestHandler: { socketTimeout: options.socketTimeoutMs ?? 30_000 },
    // No CRC32 of every body on upload and download (the SDK's default since 2025): a blob is
    // named by its SHA-256 and the mda re-checks it on read, so the checksum only costs CPU.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials:
      options.accessKeyId && options.secretAccessKey
        ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
        : undefined,
  });

  const { onRequest } = options;
  if (onRequest) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const started = process.hrtime.bigint();
        let failed = true;
        try {
          const result = await next(args);
          failed = false;
          return result;
        } finally {
          onRequest(
            context.commandName ?? 'unknown',
            Number(process.hrtime.bigint() - started) / 1e9,
            failed,
          );
        }
      },
      // The outermost step: the time a caller waits, retries included.
      { step: 'initialize', name: 'correoRequestTiming' },
    );
  }

  const objectKey = (key: string) => `${prefix}${blobPath(key)}`;

  async function exists(key: string): Promise<{ size: number } | null> {
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { size: head.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async function removeObject(key: string): Promise<void> {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }

  /** A body too big to hold: streamed to a temporary key while hashing, then copied to its final key. */
  async function putStreaming(
    source: Readable | AsyncIterable<Uint8Array>,
    putOptions: PutOptions,
  ): Promise<StoredBlob> {
    // The hash is known only at the end, so the body goes to a temporary key first.
    const tmpKey = `${prefix}tmp/${randomUUID()}`;
    const meter = new DigestMeter(putOptions.maxBytes);
    const upload = new Upload({
      client,
      params: { Bucket: bucket, Key: tmpKey, Body: meter },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
    });
    const uploaded = upload.done().catch((err: unknown) => {
      // An S3 failure stops reading the meter; destroy it so the source pipeline settles too.
      meter.destroy(err as Error);
      throw err;
    });
    try {
      const [read, sent] = await Promise.allSettled([pipeline(source, meter), uploaded]);
      if (read.status === 'rejected') throw read.reason;
      if (sent.status === 'rejected') throw sent.reason;
      const { sha256, size } = meter.result();
      const finalKey = objectKey(sha256);
      if (!(await exists(finalKey))) {
        await client.send(
          new CopyObjectCommand({ Bucket: bucket, Key: finalKey, CopySource: copySource(bucket, tmpKey) }),
        );
      }
      return { key: sha256, sha256, size };
    } finally {
      await removeObject(tmpKey).catch(() => {
        // Best effort: a leftover temporary object never shadows a blob and can be swept by a lifecycle rule.
      });
    }
  }

  return {
    kind: 's3',

    async put(
      source: Readable | AsyncIterable<Uint8Array>,
      putOptions: PutOptions = {},
    ): Promise<StoredBlob> {
      // Most mail is small: read it whole, hash it, and PUT it once under its final key (the same
      // bytes under the same key make a repeat harmless, so no HEAD first). A bigger body streams
      // to a temporary key and is copied once its hash is known.
      const chunks: Buffer[] = [];
      let held = 0;
      const reader = source[Symbol.asyncIterator]();
      for (;;) {
        const next = await reader.next();
        if (next.done) {
          const body = Buffer.concat(chunks, held);
          const sha256 = createHash('sha256').update(body).digest('hex');
          await client.send(
            new PutObjectCommand({ Bucket: bucket, Key: objectKey(sha256), Body: body, ContentLength: held }),
          );
          return { key: sha256, sha256, size: held };
        }
        const chunk = Buffer.from(next.value as Uint8Array);
        chunks.push(chunk);
        held += chunk.byteLength;
        if (putOptions.maxBytes !== undefined && held > putOptions.maxBytes) {
          await reader.return?.();
          throw new BlobTooLargeError(putOptions.maxBytes);
        }
        if (held > SINGLE_PUT_BYTES) break;
      }
      return putStreaming(
        (async function* () {
          yield* chunks;
          for (let next = await reader.next(); !next.done; next = await reader.next())
            yield next.value as Uint8Array;
        })(),
        putOptions,
      );
    },

    async get(key: string, range?: ByteRange): Promise<Readable> {
      if (!isBlobKey(key)) throw new BlobNotFoundError(key);
      try {
        const res = await client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: objectKey(key),
            Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined,
          }),
        );
        return res.Body as Readable;
      } catch (err) {
        if (isNotFound(err)) throw new BlobNotFoundError(key);
        throw err;
      }
    },

    async stat(key: string): Promise<{ size: number } | null> {
      if (!isBlobKey(key)) return null;
      return exists(objectKey(key));
    },

    async delete(key: string): Promise<void> {
      if (!isBlobKey(key)) return;
      await removeObject(objectKey(key));
    },

    async *list(): AsyncIterable<string> {
      const pages = paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: `${prefix}${BLOB_ROOT}` });
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          const key = object.Key?.slice(object.Key.lastIndexOf('/') + 1) ?? '';
          if (isBlobKey(key)) yield key;
        }
      }
    },

    async ping(): Promise<void> {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (err) {
        throw new Error(`${where} is not reachable: ${describe(err)}`, { cause: err });
      }
    },

    async ensureBucket(): Promise<void> {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
        return;
      } catch (err) {
        if (!isNotFound(err)) throw new Error(`${where}: ${describe(err)}`, { cause: err });
      }
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
      } catch (err) {
        // Another pod (or test) created it between our HEAD and CREATE.
        if (err instanceof S3ServiceException && err.name === 'BucketAlreadyOwnedByYou') return;
        throw err;
      }
    },

    async close(): Promise<void> {
      client.destroy();
    },
  };
}

function isNotFound(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  return err.$metadata.httpStatusCode === 404 || err.name === 'NoSuchKey' || err.name === 'NotFound';
}

/** HEAD errors carry no body, so the SDK's message can be just "UnknownError": add what we know. */
function describe(err: unknown): string {
  if (err instanceof S3ServiceException) {
    const status = err.$metadata.httpStatusCode;
    const hint =
      status === 403
        ? 'access denied (check the credentials)'
        : status === 404
          ? 'no such bucket'
          : err.message;
    return `${err.name} (HTTP ${status ?? '?'}): ${hint}`;
  }
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message}` : String(e?.message ?? err);
}

function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}
