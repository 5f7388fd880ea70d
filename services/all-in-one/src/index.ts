export { allInOneSection } from './config.js';
export { EMBEDDED_DEFAULTS, withEmbeddedDefaults } from './embedded-defaults.js';
