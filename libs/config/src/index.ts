export { ConfigError, type ConfigIssue } from './config-error.js';
export { configVariableNames, loadConfig, loadConfigOrExit, type Env } from './load.js';
export {
  baseSecrets,
  baseVariables,
  logLevels,
  type BaseVariables,
  type BlobAdapter,
  type BusAdapter,
  type Config,
  type LogLevel,
  type SharedStateAdapter,
} from './schema.js';
export {
  defineSection,
  type ConfigSection,
  type CrossCheckIssue,
  type VariableShape,
  type VariableValues,
} from './section.js';
export {
  cidrList,
  dnsServerList,
  domainList,
  flag,
  hostPortList,
  integer,
  oneOf,
  optionalFlag,
  optionalText,
  port,
  text,
  url,
} from './variables.js';
