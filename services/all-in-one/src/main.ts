import { runService } from '@correo/runtime';
import { describe, sections, startAllInOne, type AllInOne } from './app.js';

await runService({
  name: 'all-in-one',
  sections,
  start: startAllInOne,
  banner: (config, service) => describe(config, service as AllInOne),
});
