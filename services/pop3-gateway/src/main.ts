// Wiring only: the shared mailbox-gateway main (config, backends, TLS) around startPop3Gateway.
import { runMailboxGateway } from '@correo/backends';
import { pop3GatewaySection } from './config.js';
import { startPop3Gateway } from './gateway.js';

await runMailboxGateway({
  name: 'pop3-gateway',
  key: 'pop3',
  section: pop3GatewaySection,
  start: startPop3Gateway,
});
