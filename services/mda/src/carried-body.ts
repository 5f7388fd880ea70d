import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { withOtherBodies, type BlobStore } from '@correo/blobs';
import type { MailAccepted } from '@correo/proto';
import type { DeliveryPlan } from './recipients.js';

/**
 * A small message rides in its MailAccepted event (smtp-ingress body-store.ts): the accept's one
 * durable write was the event. Before anything names its blob key (a filed message, a relay job),
 * the bytes go into the blob store under that key, here, off the 250's path and for a whole batch at
 * once (the file store's directory fsyncs, S3's PUTs, run together). Content addressing makes this
 * idempotent: a redelivered event stores the same bytes under the same name again, harmlessly; and a
 * blob stored here but not yet named is an unclaimed candidate the collector leaves alone for its
 * grace period (libs/store blob-collection.ts), like one smtp-ingress stored.
 */
export async function storeCarriedBodies(
  blobs: BlobStore,
  planned: readonly { event: MailAccepted; plan: DeliveryPlan }[],
): Promise<void> {
  await Promise.all(
    planned
      .filter(
        ({ event, plan }) => event.body.byteLength > 0 && (plan.local.length > 0 || plan.external.size > 0),
      )
      .map(({ event }) => storeCarriedBody(blobs, event)),
  );
}

async function storeCarriedBody(blobs: BlobStore, event: MailAccepted): Promise<void> {
  const stored = await blobs.put(Readable.from([carriedBytes(event)]));
  checkCarriedBody(event, stored.key, stored.size);
}

function carriedBytes(event: MailAccepted): Buffer {
  return Buffer.from(event.body.buffer, event.body.byteOffset, event.body.byteLength);
}

/** The key names the bytes: an event whose body does not hash to its blob_key would file a lie. */
function checkCarriedBody(event: MailAccepted, key: string, size: number): void {
  if (key !== event.blobKey || BigInt(size) !== event.size) {
    throw new Error(
      `MailAccepted ${event.eventId}: its body hashes to ${key} (${size} bytes), the event names ${event.blobKey} (${event.size})`,
    );
  }
}

/**
 * Whether the event's body is kept in PostgreSQL by its filing (message_bodies, libs/store) instead of
 * the blob store: carried in the event, at most `limit` bytes, and named by the filing alone. A relay
 * job for an external recipient would name the key whether or not a copy is filed (every local copy
 * may be a duplicate or over quota), so such events keep the blob store.
 */
export function keepsBodyInDatabase(event: MailAccepted, plan: DeliveryPlan, limit: number): boolean {
  const size = event.body.byteLength;
  return size > 0 && size <= limit && plan.local.length > 0 && plan.external.size === 0;
}

/** The carried body the filing keeps in the database, after checking that it hashes to its key. */
export function databaseBody(event: MailAccepted): Uint8Array {
  const bytes = carriedBytes(event);
  checkCarriedBody(event, createHash('sha256').update(bytes).digest('hex'), bytes.byteLength);
  return bytes;
}

/**
 * The blob store as a batch reads it: a body its event carried is read from the event (the MIME
 * analysis when none was carried, Sieve's header view, a redirect's copy), never from the store,
 * where it may not be (kept in the database, or stored concurrently).
 */
export function withCarriedBodies(blobs: BlobStore, events: readonly { event: MailAccepted }[]): BlobStore {
  const carried = new Map<string, Buffer>();
  for (const { event } of events)
    if (event.body.byteLength > 0) carried.set(event.blobKey, carriedBytes(event));
  return carried.size === 0 ? blobs : withOtherBodies(blobs, (key) => carried.get(key), 'first');
}

/** The blob key a dead letter keeps for its replay: none when the body rides in the event itself. */
export function deadLetterBlobKey(event: MailAccepted): string | undefined {
  return event.body.byteLength > 0 ? undefined : event.blobKey;
}
