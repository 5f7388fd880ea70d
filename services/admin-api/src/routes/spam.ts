import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { getDomainSpamSettings, putDomainSpamSettings } from '@correo/store';
import { ApiError } from '../api-error.js';
import { idParams, withErrors } from '../schemas.js';

const tags = ['domains'];

const score = { type: 'number', minimum: -1000, maximum: 1000 } as const;

const spamSettingsSchema = {
  type: 'object',
  properties: {
    rejectScore: {
      ...score,
      description:
        "Mail to this domain scoring at least this is refused (550 5.7.1); unset: Rspamd's reject action",
    },
    junkScore: {
      ...score,
      description:
        'Mail to this domain scoring at least this is filed into Junk; unset: SMTP_SPAM_JUNK_SCORE',
    },
  },
} as const;

/**
 * A domain's own spam thresholds (docs/spam.md): smtp-ingress applies them to mail for the domain's
 * recipients. The domain is looked up through the caller's provisioning scope first, so a tenant token
 * reaches only its own domains (404 otherwise).
 */
export async function spamRoutes(api: FastifyInstance, options: { pool: pg.Pool }): Promise<void> {
  const { pool } = options;

  api.get<{ Params: { id: string } }>(
    '/:id/spam',
    {
      schema: {
        tags,
        summary: "Read the domain's spam thresholds (empty: the operator's defaults apply)",
        params: idParams,
        response: withErrors({ 200: spamSettingsSchema }),
      },
    },
    async (request) => {
      const domain = await request.provisioning.getDomain(request.params.id);
      return getDomainSpamSettings(pool, domain.id);
    },
  );

  api.put<{ Params: { id: string }; Body: { rejectScore?: number; junkScore?: number } }>(
    '/:id/spam',
    {
      schema: {
        tags,
        summary: "Replace the domain's spam thresholds (an empty body goes back to the defaults)",
        params: idParams,
        body: { ...spamSettingsSchema, additionalProperties: false },
        response: withErrors({ 200: spamSettingsSchema }),
      },
    },
    async (request) => {
      const domain = await request.provisioning.getDomain(request.params.id);
      const { rejectScore, junkScore } = request.body;
      if (rejectScore !== undefined && junkScore !== undefined && junkScore > rejectScore) {
        throw new ApiError(400, 'invalid_thresholds', 'junkScore must not be above rejectScore', [
          { field: 'junkScore', message: 'must not be above rejectScore' },
        ]);
      }
      return putDomainSpamSettings(pool, domain.id, { rejectScore, junkScore });
    },
  );
}
