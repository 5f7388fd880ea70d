// Wiring only: the shared mailbox-gateway main (config, backends, TLS) around startImapGateway.
import { runMailboxGateway } from '@correo/backends';
import { imapGatewaySection } from './config.js';
import { startImapGateway } from './gateway.js';

await runMailboxGateway({
  name: 'imap-gateway',
  key: 'imap',
  section: imapGatewaySection,
  start: startImapGateway,
});
