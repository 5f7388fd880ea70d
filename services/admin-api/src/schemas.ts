import { isBigintText, MAX_PAGE_SIZE } from '@correo/directory';

/*
 * JSON schemas shared by the routes. They validate requests (ajv), serialise responses
 * (fast-json-stringify: only the listed fields leave the server) and document the API in OpenAPI.
 */

/**
 * The ajv format of ids and cursors: decimal digits within the bigint range. A pattern can check the
 * digits but not the range, so the value is compared as a BigInt.
 */
export const idFormats = {
  'bigint-id': {
    type: 'string',
    validate: (value: string) => isBigintText(value),
  },
  'bigint-cursor': {
    type: 'string',
    validate: (value: string) => isBigintText(value, true),
  },
} as const;

export const id = {
  type: 'string',
  format: 'bigint-id',
  pattern: '^[1-9][0-9]{0,18}$',
  description: 'A numeric id as a string (1 to 9223372036854775807)',
} as const;
const timestamp = { type: 'string', format: 'date-time' } as const;
const nullableTimestamp = { type: ['string', 'null'], format: 'date-time' } as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id },
} as const;

export const pageQueryProperties = {
  limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 50 },
  cursor: {
    type: 'string',
    format: 'bigint-cursor',
    pattern: '^[0-9]{1,19}$',
    description: 'nextCursor of the previous page',
  },
} as const;

export interface PageQuery {
  limit?: number;
  cursor?: string;
}

export function pageOf(item: object) {
  return {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: {
      items: { type: 'array', items: item },
      nextCursor: { type: ['string', 'null'], description: 'null on the last page' },
    },
  } as const;
}

export const errorResponse = {
  $id: 'ApiError',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: {
          type: 'array',
          items: {
            type: 'object',
            required: ['field', 'message'],
            properties: {
              field: { type: 'string' },
              message: { type: 'string' },
              line: { type: 'integer', description: 'in a text field (a Sieve script), 1-based' },
              column: { type: 'integer' },
            },
          },
        },
      },
    },
  },
} as const;

const errorRef = { $ref: 'ApiError#' } as const;

/** The error answers a route can give, besides its success responses. */
export function withErrors<T extends Record<number, unknown>>(success: T) {
  return {
    ...success,
    400: errorRef,
    401: errorRef,
    403: errorRef,
    404: errorRef,
    409: errorRef,
    422: errorRef,
  };
}

export const tenantSchema = {
  type: 'object',
  required: ['id', 'name', 'createdAt'],
  properties: { id, name: { type: 'string' }, createdAt: timestamp },
} as const;

export const domainSchema = {
  type: 'object',
  required: ['id', 'tenantId', 'name', 'unicodeName', 'status', 'verifiedAt', 'verification', 'createdAt'],
  properties: {
    id,
    tenantId: id,
    name: { type: 'string', description: 'Lowercase punycode (A-labels)' },
    unicodeName: { type: 'string' },
    status: {
      type: 'string',
      enum: ['pending', 'verified'],
      description: 'A pending domain receives and relays nothing until verified',
    },
    verifiedAt: nullableTimestamp,
    verification: {
      type: ['object', 'null'],
      description: 'The TXT record to publish, then POST /v1/domains/{id}/verify; null once verified',
      required: ['name', 'type', 'value'],
      properties: { name: { type: 'string' }, type: { type: 'string' }, value: { type: 'string' } },
    },
    createdAt: timestamp,
  },
} as const;

export const sendAsGrantSchema = {
  type: 'object',
  required: ['id', 'tenantId', 'accountId', 'domainId', 'domain', 'createdAt'],
  properties: {
    id,
    tenantId: id,
    accountId: id,
    domainId: id,
    domain: { type: 'string', description: 'Lowercase punycode (A-labels)' },
    createdAt: timestamp,
  },
} as const;

export const accountSchema = {
  type: 'object',
  required: ['id', 'tenantId', 'domainId', 'address', 'displayName', 'quotaBytes', 'usedBytes', 'disabled'],
  properties: {
    id,
    tenantId: id,
    domainId: id,
    address: { type: 'string' },
    displayName: { type: 'string' },
    quotaBytes: { type: ['integer', 'null'], description: 'null: no quota' },
    usedBytes: { type: 'integer' },
    disabled: { type: 'boolean' },
    hasPassword: { type: 'boolean' },
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

export const aliasSchema = {
  type: 'object',
  required: ['id', 'tenantId', 'domainId', 'source', 'catchAll', 'targets'],
  properties: {
    id,
    tenantId: id,
    domainId: id,
    source: { type: 'string', description: 'user@domain, or @domain for the catch-all' },
    catchAll: { type: 'boolean' },
    targets: { type: 'array', items: { type: 'string' } },
    createdAt: timestamp,
  },
} as const;

export const tokenSchema = {
  type: 'object',
  required: ['id', 'tenantId', 'name', 'createdAt'],
  properties: {
    id,
    tenantId: { type: ['string', 'null'], description: 'null: an operator token valid for every tenant' },
    name: { type: 'string' },
    createdAt: timestamp,
    expiresAt: nullableTimestamp,
    lastUsedAt: nullableTimestamp,
  },
} as const;

export const password = { type: 'string', minLength: 8, maxLength: 1024 } as const;
export const quotaBytes = { type: ['integer', 'null'], minimum: 0, description: 'null: no quota' } as const;
