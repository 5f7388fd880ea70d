import { loadConfigOrExit } from '@correo/config';
import { createLogger, startTelemetry } from '@correo/telemetry';
import { describe, startAllInOne } from './app.js';

const config = loadConfigOrExit(process.env);
const telemetry = startTelemetry({
  serviceName: config.telemetry.serviceName ?? 'correo-all-in-one',
  otlpEndpoint: config.telemetry.otlpEndpoint,
});
const logger = createLogger('all-in-one', config.logLevel);

const app = await startAllInOne(config, logger).catch((error: unknown) => {
  logger.fatal({ err: error }, 'startup failed');
  process.stderr.write(`correo could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // A backend that does not answer must not keep a stopping pod alive past its grace period.
    setTimeout(() => {
      logger.error('shutdown took longer than 20 s; exiting anyway');
      process.exit(1);
    }, 20_000).unref();
    void app
      .close()
      .then(() => telemetry.shutdown())
      .finally(() => process.exit(0));
  });
}

await app.started.then(
  () => {
    process.stderr.write(describe(config, app) + '\n');
    logger.info({ listeners: app.listeners }, 'ready');
  },
  () => {},
);
