import { runService } from '@correo/runtime';
import { createImageSenderList, createPool } from '@correo/store';
import { webmailSection } from './config.js';
import { startWebmail } from './start.js';

await runService({
  name: 'webmail',
  sections: { webmail: webmailSection },
  async start({ config, logger }) {
    // The database only keeps "always show images from this sender"; mail itself comes over IMAP.
    const pool = config.database.url ? createPool(config.database.url, { max: 4 }) : undefined;
    const webmail = await startWebmail({
      config: config.webmail,
      logger,
      ...(pool ? { imageSenders: createImageSenderList(pool) } : {}),
    });
    return {
      listeners: [{ name: 'webmail', address: webmail.url }],
      async close() {
        await webmail.close();
        await pool?.end();
      },
    };
  },
});
