export { retryUntilDone } from './retry.js';
export {
  runService,
  type Listener,
  type RunningService,
  type ServiceContext,
  type ServiceDefinition,
} from './run-service.js';
