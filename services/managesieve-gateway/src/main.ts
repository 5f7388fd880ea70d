// Wiring only: the shared mailbox-gateway main (config, backends, TLS) around startManageSieveGateway.
import { runMailboxGateway } from '@correo/backends';
import { manageSieveGatewaySection } from './config.js';
import { startManageSieveGateway } from './gateway.js';

await runMailboxGateway({
  name: 'managesieve-gateway',
  key: 'managesieve',
  section: manageSieveGatewaySection,
  start: startManageSieveGateway,
});
