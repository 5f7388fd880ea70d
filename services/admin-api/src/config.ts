import { z } from 'zod';
import { defineSection, dnsServerList, port, text } from '@correo/config';

/**
 * Tokens that appear in published files (an old docker-compose.yml, examples): anyone can try them,
 * so the admin-api refuses to start with one, in every setup (make dev generates its own).
 */
export const PUBLISHED_ADMIN_TOKENS: readonly string[] = [
  'change-me-to-at-least-24-characters',
  'change-me-change-me-change-me',
  'test-operator-token-0123456789abcdef',
  // The example in charts/correo/values.yaml.
  'at-least-24-characters-of-random',
];

/**
 * The admin-api's own variables. ADMIN_TOKEN is the operator's bearer token (every tenant); without it
 * only tokens stored in the database (created through the API or by the embedded default) work.
 */
export const adminApiSection = defineSection({
  variables: {
    ADMIN_API_HOST: text('0.0.0.0'),
    ADMIN_API_PORT: port({ default: 8080, allowZero: true }),
    // Where domain verification looks up _correo-verify TXT records; empty: the system's resolvers.
    ADMIN_DNS_SERVERS: dnsServerList(),
    // A short shared secret is guessable over the network; 24 characters of base64 is ~144 bits.
    ADMIN_TOKEN: z
      .string()
      .trim()
      .min(24, { error: 'at least 24 characters (e.g. openssl rand -base64 32)' })
      .refine((token) => !PUBLISHED_ADMIN_TOKENS.includes(token), {
        error: 'a secret of your own: this token is published (e.g. openssl rand -base64 32)',
      })
      .optional(),
  },
  secrets: ['ADMIN_TOKEN'],
  build: (vars) => ({
    host: vars.ADMIN_API_HOST,
    port: vars.ADMIN_API_PORT,
    adminToken: vars.ADMIN_TOKEN,
    dnsServers: vars.ADMIN_DNS_SERVERS,
  }),
});

export type AdminApiConfig = ReturnType<typeof adminApiSection.build>;
