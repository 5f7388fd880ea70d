import {
  FormError,
  newScriptName,
  parseRules,
  parseVacationForm,
  readForms,
  writeForms,
  type Rule,
  type VacationForm,
} from '@correo/sieve';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Rule as PageRule, SieveForms, VacationForm as PageVacationForm } from '../api-types.js';
import { ManageSieveClient, ManageSieveRefusal } from '../managesieve-client.js';
import { WebmailError } from '../webmail-error.js';

// The page's copies of the form types (api-types.ts) must stay the library's: both directions.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const _rulesAgree: Same<Rule, PageRule> = true;
const _vacationAgree: Same<VacationForm, PageVacationForm> = true;
void _rulesAgree;
void _vacationAgree;

/** A whole script from the "edit script" view: the store's limit (1 MiB) in characters at most. */
const scriptBody = {
  type: 'object',
  required: ['script'],
  additionalProperties: false,
  properties: { script: { type: 'string', maxLength: 1024 * 1024 } },
} as const;

/**
 * The rules and vacation views. The webmail is a ManageSieve client here, as it is an IMAP client
 * for mail: it reads the user's active script with GETSCRIPT, rewrites the forms' section with
 * libs/sieve's forms (the user's own Sieve around it untouched) and stores it with PUTSCRIPT, whose
 * validation is the server's. Each request opens its own connection, logged in as the user.
 */
export async function rulesRoutes(app: FastifyInstance) {
  app.get('/api/sieve', async (request): Promise<SieveForms> =>
    withSieve(request, (client) => formsOf(client)),
  );

  app.put<{ Body: { rules: unknown } }>(
    '/api/sieve/rules',
    {
      schema: {
        body: {
          type: 'object',
          required: ['rules'],
          additionalProperties: false,
          // The forms' own schema (zod, in parseRules) checks the rest and names the field in its words.
          properties: { rules: { type: 'array', maxItems: 100 } },
        },
      },
    },
    async (request) => {
      const rules = formInput(() => parseRules(request.body.rules));
      return withSieve(request, (client) => saveForms(client, { rules }));
    },
  );

  app.put<{ Body: unknown }>(
    '/api/sieve/vacation',
    { schema: { body: { type: 'object' } } },
    async (request) => {
      const vacation = formInput(() => parseVacationForm(request.body));
      return withSieve(request, (client) => saveForms(client, { vacation }));
    },
  );

  // The advanced view: the whole script as typed. The server's parser judges it (PUTSCRIPT's NO).
  app.put<{ Body: { script: string } }>(
    '/api/sieve/script',
    { schema: { body: scriptBody } },
    async (request) =>
      withSieve(request, async (client) => {
        await store(client, (await scriptToWrite(client)).name, request.body.script);
        return formsOf(client);
      }),
  );
}

async function withSieve<T>(
  request: FastifyRequest,
  work: (client: ManageSieveClient) => Promise<T>,
): Promise<T> {
  const { account } = request.webmail;
  const client = await ManageSieveClient.open(
    account.gateways,
    account.address,
    account.password,
    account.browser,
  );
  try {
    return await work(client);
  } finally {
    await client.logout();
  }
}

/** The active script, or a new empty one under a name no inactive script of the user has. */
async function scriptToWrite(client: ManageSieveClient): Promise<{ name: string; content: string }> {
  return (
    (await client.activeScript()) ?? {
      name: newScriptName((await client.listScripts()).map((s) => s.name)),
      content: '',
    }
  );
}

async function formsOf(client: ManageSieveClient): Promise<SieveForms> {
  const { name: scriptName, content: script } = await scriptToWrite(client);
  let forms;
  try {
    forms = readForms(script);
  } catch (error) {
    if (!(error instanceof FormError)) throw error;
    // A script the forms cannot read is still shown in the "edit script" view, to be mended there.
    return { rules: [], vacation: null, edited: true, script, scriptName };
  }
  return {
    rules: forms.rules,
    vacation: forms.vacation,
    edited: forms.edited,
    script,
    scriptName,
  };
}

async function saveForms(
  client: ManageSieveClient,
  change: { rules?: Rule[]; vacation?: VacationForm },
): Promise<SieveForms> {
  const target = await scriptToWrite(client);
  const script = formInput(() => writeForms(target.content, change));
  await store(client, target.name, script);
  return formsOf(client);
}

/** PUTSCRIPT + SETACTIVE; the server's refusal in the user's words, with the line and column it names. */
async function store(client: ManageSieveClient, name: string, script: string): Promise<void> {
  try {
    await client.putActive(name, script);
  } catch (error) {
    if (!(error instanceof ManageSieveRefusal)) throw error;
    if (error.code?.startsWith('QUOTA')) {
      throw new WebmailError(413, 'too_large', `The server did not take the script: ${error.text}`);
    }
    const at = /line (\d+), column (\d+)/.exec(error.text);
    throw new WebmailError(400, 'invalid_script', `The server did not accept the script: ${error.text}`, [
      {
        field: 'script',
        message: error.text,
        ...(at ? { line: Number(at[1]), column: Number(at[2]) } : {}),
      },
    ]);
  }
}

/** Runs a forms step; its FormError becomes a 400 naming the field (or the script's line and column). */
function formInput<T>(step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (!(error instanceof FormError)) throw error;
    throw new WebmailError(400, 'invalid_form', error.message, error.details);
  }
}
