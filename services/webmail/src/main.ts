import { openBackends, requireDatabaseUrl } from '@correo/backends';
import { clientSettingsSection } from '@correo/autoconfig';
import { createPostgresDirectory } from '@correo/directory';
import { runService } from '@correo/runtime';
import { createImageSenderList } from '@correo/store';
import { webmailSection } from './config.js';
import { startWebmail } from './start.js';
import { UserSettingsStore } from './user-settings.js';

await runService({
  name: 'webmail',
  sections: { webmail: webmailSection, client: clientSettingsSection },
  async start({ config, logger, addChecks }) {
    // The database keeps the users' webmail settings and "always show images from this sender"; the
    // mail itself is reached over IMAP.
    const backends = openBackends(config, requireDatabaseUrl(config), logger, []);
    addChecks(backends.checks);
    const directory = createPostgresDirectory(backends.pool, {
      allowUnverifiedDomains: config.directory.allowUnverifiedDomains,
    });
    const clientSettings = config.client();
    const webmail = await startWebmail({
      config: config.webmail,
      logger,
      settings: new UserSettingsStore(backends.pool, directory),
      imageSenders: createImageSenderList(backends.pool),
      autoconfig: {
        settings: clientSettings,
        isServedDomain: (domain) => directory.isLocalDomain(domain),
      },
    });
    return {
      listeners: [{ name: 'webmail', address: webmail.url }],
      async close() {
        await webmail.close();
        await backends.close();
      },
    };
  },
});
