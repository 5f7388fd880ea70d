// Wiring only: config -> adapters -> startMda. The schema is migrated beforehand (libs/store migrate CLI).
// First: sizes libuv's thread pool before anything starts it (fsyncs in parallel).
import '@correo/runtime/threadpool';
import { openBackends, requireDatabaseUrl } from '@correo/backends';
import { createMailPathDirectory } from '@correo/directory';
import { OutboundQuota } from '@correo/limits';
import { runService } from '@correo/runtime';
import { mdaConfigSection } from './config.js';
import { startMda } from './mda.js';

await runService({
  name: 'mda',
  sections: { mda: mdaConfigSection },
  async start({ config, logger, addChecks }) {
    const backends = openBackends(config, requireDatabaseUrl(config), logger, ['bus', 'blobs', 'notify']);
    addChecks(backends.checks);
    const directory = createMailPathDirectory(backends.pool, config.directory, (error) =>
      logger.warn({ error: error.message }, 'directory change notifications lost: not caching'),
    );
    const mda = await startMda({
      bus: backends.bus,
      blobs: backends.blobs,
      pool: backends.pool,
      directory,
      notifier: backends.notifier,
      outboundQuota: new OutboundQuota(backends.limits, config.limits.outbound),
      logger,
      config: config.mda,
    });
    addChecks(mda.checks);
    return {
      listeners: [],
      async close() {
        await mda.close();
        await directory.close();
        await backends.close();
      },
    };
  },
});
