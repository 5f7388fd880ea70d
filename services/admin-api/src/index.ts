export { buildAdminApi } from './app.js';
export type { AdminApiOptions } from './app.js';
export { adminApiSection } from './config.js';
export type { AdminApiConfig } from './config.js';
export type { ApiErrorBody } from './api-error.js';
