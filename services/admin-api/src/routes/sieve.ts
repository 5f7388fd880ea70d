import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import {
  FormError,
  newScriptName,
  parseScript,
  parseVacationForm,
  readForms,
  SieveSyntaxError,
  vacationFormJsonSchema,
  writeForms,
} from '@correo/sieve';
import {
  listSieveScripts,
  MAX_SIEVE_SCRIPT_BYTES as MAX_SCRIPT_BYTES,
  putSieveScript,
  SieveScriptTooLargeError,
} from '@correo/store';
import { ApiError } from '../api-error.js';
import { idParams, withErrors } from '../schemas.js';

const tags = ['accounts'];

const activeScriptSchema = {
  type: 'object',
  required: ['name', 'script', 'updatedAt'],
  properties: {
    name: { type: 'string' },
    script: { type: 'string', description: 'RFC 5228 Sieve, run by the mda at every delivery' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const vacationSchema = {
  type: 'object',
  required: ['vacation', 'edited'],
  properties: {
    vacation: { anyOf: [{ type: 'null' }, vacationFormJsonSchema.output] },
    edited: {
      type: 'boolean',
      description: "the form's section of the script was changed by hand; a PUT replaces that section",
    },
  },
} as const;

/**
 * The account's active Sieve script (issue 14): read it, or replace it after the parser accepted it
 * (a syntax error is a 400 whose detail names the line and column). ManageSieve will manage the
 * other, inactive scripts. The account is looked up through the caller's provisioning scope first,
 * so a tenant token reaches only its own accounts (404 otherwise).
 */
export async function sieveRoutes(api: FastifyInstance, options: { pool: pg.Pool }): Promise<void> {
  const { pool } = options;

  api.get<{ Params: { id: string } }>(
    '/:id/sieve',
    {
      schema: {
        tags,
        summary: "Read the account's active Sieve script",
        params: idParams,
        response: withErrors({ 200: activeScriptSchema }),
      },
    },
    async (request) => {
      const account = await request.provisioning.getAccount(request.params.id);
      const active = await activeScript(pool, account.id);
      if (!active) throw new ApiError(404, 'not_found', `account ${account.id} has no active Sieve script`);
      return { name: active.name, script: active.content, updatedAt: active.updatedAt.toISOString() };
    },
  );

  api.put<{ Params: { id: string }; Body: { script: string } }>(
    '/:id/sieve',
    {
      bodyLimit: MAX_SCRIPT_BYTES * 2,
      schema: {
        tags,
        summary: "Replace the account's active Sieve script (validated by the parser first)",
        params: idParams,
        body: {
          type: 'object',
          required: ['script'],
          additionalProperties: false,
          properties: { script: { type: 'string' } },
        },
        response: withErrors({ 200: activeScriptSchema, 413: { $ref: 'ApiError#' } }),
      },
    },
    async (request) => {
      const account = await request.provisioning.getAccount(request.params.id);
      const { script } = request.body;
      // Before the parser, which would call the size a syntax error at line 1 (a 400).
      const bytes = Buffer.byteLength(script, 'utf8');
      if (bytes > MAX_SCRIPT_BYTES)
        throw new ApiError(413, 'too_large', new SieveScriptTooLargeError(bytes, MAX_SCRIPT_BYTES).message);
      try {
        parseScript(script, { maxScriptBytes: MAX_SCRIPT_BYTES });
      } catch (error) {
        if (!(error instanceof SieveSyntaxError)) throw error;
        throw new ApiError(400, 'invalid_script', `the script does not parse: ${error.message}`, [
          { field: 'script', message: error.message, line: error.line, column: error.column },
        ]);
      }
      const { name } = await scriptToWrite(pool, account.id);
      await storeActive(pool, account.id, name, script);
      const stored = (await listSieveScripts(pool, account.id)).find((s) => s.name === name)!;
      return { name, script: stored.content, updatedAt: stored.updatedAt.toISOString() };
    },
  );

  // The vacation form (libs/sieve forms.ts): read from, and written into, the active script's forms
  // section; the rest of the script (rules, the user's own Sieve) stays as it was.
  api.get<{ Params: { id: string } }>(
    '/:id/vacation',
    {
      schema: {
        tags,
        summary: "Read the account's vacation form (null: never set)",
        params: idParams,
        response: withErrors({ 200: vacationSchema }),
      },
    },
    async (request) => {
      const account = await request.provisioning.getAccount(request.params.id);
      const active = await activeScript(pool, account.id);
      const { vacation, edited } = formsOf(active?.content ?? '');
      return { vacation, edited };
    },
  );

  api.put<{ Params: { id: string }; Body: unknown }>(
    '/:id/vacation',
    {
      schema: {
        tags,
        summary: "Replace the account's vacation form; writes its Sieve into the active script",
        params: idParams,
        body: vacationFormJsonSchema.input,
        response: withErrors({ 200: vacationSchema, 413: { $ref: 'ApiError#' } }),
      },
    },
    async (request) => {
      const account = await request.provisioning.getAccount(request.params.id);
      const target = await scriptToWrite(pool, account.id);
      let script: string;
      try {
        script = writeForms(target.content, { vacation: parseVacationForm(request.body) });
      } catch (error) {
        if (error instanceof FormError) throw new ApiError(400, 'invalid_form', error.message, error.details);
        throw error;
      }
      await storeActive(pool, account.id, target.name, script);
      const { vacation, edited } = formsOf(script);
      return { vacation, edited };
    },
  );
}

const activeScript = async (pool: pg.Pool, accountId: string) =>
  (await listSieveScripts(pool, accountId)).find((s) => s.active);

/** The active script, or a new empty one under a name no inactive script of the user has. */
async function scriptToWrite(pool: pg.Pool, accountId: string): Promise<{ name: string; content: string }> {
  const scripts = await listSieveScripts(pool, accountId);
  const active = scripts.find((s) => s.active);
  return active
    ? { name: active.name, content: active.content }
    : { name: newScriptName(scripts.map((s) => s.name)), content: '' };
}

/** Stores `script` as the account's active script under `name`; over the size limit is a 413. */
async function storeActive(pool: pg.Pool, accountId: string, name: string, script: string): Promise<void> {
  try {
    await putSieveScript(pool, accountId, name, script, { maxBytes: MAX_SCRIPT_BYTES, activate: true });
  } catch (error) {
    if (error instanceof SieveScriptTooLargeError) throw new ApiError(413, 'too_large', error.message);
    throw error;
  }
}

/** The forms of a stored script; one the lexer cannot read is a 409 (fix it through PUT .../sieve). */
function formsOf(script: string) {
  try {
    return readForms(script);
  } catch (error) {
    if (error instanceof FormError)
      throw new ApiError(409, 'script_unreadable', error.message, error.details);
    throw error;
  }
}
