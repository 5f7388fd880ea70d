import { appleMobileconfig, clientEndpoints, type ClientSettings } from '@correo/autoconfig';
import type { FastifyInstance } from 'fastify';
import type { ClientSetup, UserSettings } from '../api-types.js';
import { settingsSchema, type UserSettingsStore } from '../user-settings.js';
import { WebmailError } from '../webmail-error.js';

export interface SettingsContext {
  settings: UserSettingsStore | undefined;
  /** Where mail clients connect (CLIENT_*); absent where the webmail was not told. */
  clientSettings: ClientSettings | undefined;
}

/** The settings page: the user's own preferences, and how to set up a mail client for this account. */
export async function settingsRoutes(app: FastifyInstance, context: SettingsContext) {
  const store = () => {
    if (!context.settings) {
      throw new WebmailError(503, 'settings_unavailable', 'Settings cannot be saved on this server.');
    }
    return context.settings;
  };
  const clientSettings = () => {
    if (!context.clientSettings) {
      throw new WebmailError(404, 'no_client_setup', 'This server does not describe mail client setup.');
    }
    return context.clientSettings;
  };

  app.get('/api/settings', async (request) => store().get(request.webmail.account.address));

  app.put<{ Body: Partial<UserSettings> }>(
    '/api/settings',
    { schema: { body: settingsSchema } },
    async (request) => store().update(request.webmail.account.address, request.body),
  );

  app.get('/api/settings/client-setup', async (request): Promise<ClientSetup> => {
    const settings = clientSettings();
    const address = request.webmail.account.address;
    const domain = address.slice(address.lastIndexOf('@') + 1);
    return {
      address,
      hostname: settings.hostname,
      endpoints: clientEndpoints(settings),
      autoconfigUrl: `https://autoconfig.${domain}/mail/config-v1.1.xml?emailaddress=${encodeURIComponent(address)}`,
    };
  });

  // An Apple profile for this account: the password is asked on install, never put in the file.
  app.get('/api/settings/mobileconfig', async (request, reply) => {
    const settings = clientSettings();
    const address = request.webmail.account.address;
    const displayName = context.settings ? (await context.settings.get(address)).displayName : '';
    const profile = appleMobileconfig(address, displayName || address, settings);
    return reply
      .type('application/x-apple-aspen-config')
      .header(
        'content-disposition',
        `attachment; filename="${address.replace(/[^\w.@+-]/g, '_')}.mobileconfig"`,
      )
      .header('content-security-policy', "default-src 'none'; sandbox")
      .send(profile);
  });
}
