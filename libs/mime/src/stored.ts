import { z } from 'zod';
import type { BodyStructure, Envelope, ImapAddress } from './types.js';

/**
 * The owner of the ENVELOPE and BODYSTRUCTURE JSON that libs/store keeps per message (envelope_json,
 * bodystructure_json): the only writer of that JSON and the only reader, so its shape is versioned
 * in one place. A row is written with `version`; rows stored before versions were recorded have
 * none and are version 1, the same shape. Reading validates (zod, which names the field at fault),
 * so an old or damaged row is a clear StoredShapeError where a cast would have crashed a serializer
 * or sent a client garbage.
 */
export const STORED_SHAPE_VERSION = 1;

/** Rows as written since versions are recorded; readers also accept the same shape without `version`. */
export type StoredEnvelope = Envelope & { version: typeof STORED_SHAPE_VERSION };
export type StoredBodyStructure = BodyStructure & { version: typeof STORED_SHAPE_VERSION };

/** A stored ENVELOPE or BODYSTRUCTURE that this version cannot read. */
export class StoredShapeError extends Error {
  constructor(
    readonly what: 'envelope' | 'bodystructure',
    detail: string,
  ) {
    super(`stored ${what} cannot be read: ${detail}`);
    this.name = 'StoredShapeError';
  }
}

export function storedEnvelope(envelope: Envelope): StoredEnvelope {
  return { ...envelope, version: STORED_SHAPE_VERSION };
}

export function storedBodyStructure(structure: BodyStructure): StoredBodyStructure {
  return { ...structure, version: STORED_SHAPE_VERSION };
}

/** `where` names the row in the error (e.g. "message 12"). */
export function readStoredEnvelope(json: unknown, where?: string): Envelope {
  return readStored('envelope', envelopeSchema, json, where);
}

export function readStoredBodyStructure(json: unknown, where?: string): BodyStructure {
  return readStored('bodystructure', bodyStructureSchema, json, where);
}

/**
 * Placeholders that stored ENVELOPEs held for a missing mailbox or domain before they were given as
 * "" (RFC 3501 7.4.2 has no such names; a NIL host would read as a group marker). Version 1 rows
 * may still hold them: the reader gives them as "", as they are written today.
 */
const LEGACY_PLACEHOLDERS = new Set(['MISSING_MAILBOX', 'MISSING_DOMAIN']);

function withoutPlaceholders(address: ImapAddress): ImapAddress {
  const [name, adl, mailbox, host] = address;
  if (!LEGACY_PLACEHOLDERS.has(mailbox ?? '') && !LEGACY_PLACEHOLDERS.has(host ?? '')) return address;
  const blank = (part: string | null) => (LEGACY_PLACEHOLDERS.has(part ?? '') ? '' : part);
  return [name, adl, blank(mailbox), blank(host)];
}

const text = z.string().nullable();
const address = z.tuple([text, text, text, text]).transform(withoutPlaceholders);
const addresses = z.array(address).nullable();

const envelopeSchema: z.ZodType<Envelope> = z.object({
  date: text,
  subject: text,
  from: addresses,
  sender: addresses,
  replyTo: addresses,
  to: addresses,
  cc: addresses,
  bcc: addresses,
  inReplyTo: text,
  messageId: text,
});

const octet = z.number().int().nonnegative();
const params = z.record(z.string(), z.string());
const partCommon = {
  section: z.string(),
  offsets: z.object({ headerStart: octet, bodyStart: octet, bodyEnd: octet }),
  disposition: z.object({ type: z.string(), params }).nullable(),
  language: z.array(z.string()).nullable(),
  location: text,
};
const singlePart = {
  ...partCommon,
  type: z.string(),
  subtype: z.string(),
  params,
  id: text,
  description: text,
  encoding: z.string(),
  size: octet,
  md5: text,
};

const bodyStructureSchema: z.ZodType<BodyStructure> = z.lazy(() =>
  z.discriminatedUnion('kind', [
    z.object({
      ...partCommon,
      kind: z.literal('multipart'),
      type: z.literal('multipart'),
      subtype: z.string(),
      params,
      parts: z.array(bodyStructureSchema).min(1),
    }),
    z.object({ ...singlePart, kind: z.literal('basic') }),
    z.object({ ...singlePart, kind: z.literal('text'), lines: octet }),
    z.object({
      ...singlePart,
      kind: z.literal('message'),
      lines: octet,
      envelope: envelopeSchema,
      body: bodyStructureSchema,
    }),
  ]),
);

function readStored<T>(
  what: StoredShapeError['what'],
  schema: z.ZodType<T>,
  json: unknown,
  where: string | undefined,
): T {
  const of = where ? ` of ${where}` : '';
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new StoredShapeError(what, `none stored${of} (${json === null ? 'null' : typeof json})`);
  }
  const version = (json as { version?: unknown }).version ?? 1;
  if (version !== STORED_SHAPE_VERSION) {
    throw new StoredShapeError(
      what,
      `version ${JSON.stringify(version)}${of} is not one this reader knows (${STORED_SHAPE_VERSION})`,
    );
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.length ? issue.path.join('.') : '(root)';
  throw new StoredShapeError(what, `${path}${of}: ${issue.message}`);
}
