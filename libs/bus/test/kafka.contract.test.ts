import { testBackends, uniqueName } from '@correo/testkit';
import { createKafkaBus } from '../src/index.js';
import { busContract } from './contract.js';

busContract(
  'kafka',
  async () => createKafkaBus({ brokers: testBackends().kafkaBrokers, clientId: uniqueName('bus-test') }),
  async () =>
    createKafkaBus({
      brokers: ['127.0.0.1:1'],
      clientId: 'bus-test-unreachable',
      connectionTimeoutMs: 1_000,
    }),
);
