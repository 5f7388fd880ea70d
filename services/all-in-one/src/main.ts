// First: sizes libuv's thread pool before anything starts it (fsyncs in parallel).
import '@correo/runtime/threadpool';
import { runService } from '@correo/runtime';
import { describe, sections, startAllInOne, type AllInOne } from './app.js';
import { withEmbeddedDefaults } from './embedded-defaults.js';

await runService({
  name: 'all-in-one',
  sections,
  env: withEmbeddedDefaults(process.env),
  start: startAllInOne,
  banner: (config, service) => describe(config, service as AllInOne),
});
