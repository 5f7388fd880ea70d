import { runService } from '@correo/runtime';
import { webmailSection } from './config.js';
import { startWebmail } from './start.js';

await runService({
  name: 'webmail',
  sections: { webmail: webmailSection },
  async start({ config, logger }) {
    const webmail = await startWebmail({ config: config.webmail, logger });
    return { listeners: [{ name: 'webmail', address: webmail.url }], close: () => webmail.close() };
  },
});
