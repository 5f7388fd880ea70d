export {
  clientSettingsSection,
  clientEndpoints,
  STANDARD_CLIENT_PORTS,
  defaultClientSettings,
} from './settings.js';
export type { ClientSettings, ClientEndpoint, ClientPorts } from './settings.js';
export { thunderbirdConfig } from './thunderbird.js';
export { autodiscoverRequestAddress, autodiscoverResponse, autodiscoverError } from './autodiscover.js';
export { appleMobileconfig } from './mobileconfig.js';
export { publishedRecords, mtaStsPolicy, mtaStsPolicyId } from './dns-records.js';
export type { PublishedRecord } from './dns-records.js';
export { autoconfigRoutes } from './routes.js';
export type { AutoconfigRouteOptions } from './routes.js';
