import { Readable } from 'node:stream';
import type { BlobStore } from '@correo/blobs';
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
  const bytes = Buffer.from(event.body.buffer, event.body.byteOffset, event.body.byteLength);
  const stored = await blobs.put(Readable.from([bytes]));
  // The key names the bytes: an event whose body does not hash to its blob_key would file a lie.
  if (stored.key !== event.blobKey || BigInt(stored.size) !== event.size) {
    throw new Error(
      `MailAccepted ${event.eventId}: its body hashes to ${stored.key} (${stored.size} bytes), the event names ${event.blobKey} (${event.size})`,
    );
  }
}

/** The blob key a dead letter keeps for its replay: none when the body rides in the event itself. */
export function deadLetterBlobKey(event: MailAccepted): string | undefined {
  return event.body.byteLength > 0 ? undefined : event.blobKey;
}
