import { adminApiScenarios } from './api-scenarios.js';
import { injectClient, useAdminApi } from './api-under-test.js';

const api = useAdminApi();
adminApiScenarios('fastify.inject', () => injectClient(api));
