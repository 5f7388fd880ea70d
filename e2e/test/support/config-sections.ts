import { adminApiSection } from '@correo/admin-api';
import { allInOneSection } from '@correo/all-in-one';
import { imapGatewaySection } from '@correo/imap-gateway';
import { mdaConfigSection } from '@correo/mda';
import { relayConfigSection } from '@correo/mta-relay';
import { pop3GatewaySection } from '@correo/pop3-gateway';
import { smtpIngressSection } from '@correo/smtp-ingress';

/** Every service's own config section: what a deployment file may set besides the shared variables. */
export const serviceSections = {
  smtp: smtpIngressSection,
  mda: mdaConfigSection,
  relay: relayConfigSection,
  imap: imapGatewaySection,
  pop3: pop3GatewaySection,
  adminApi: adminApiSection,
  allInOne: allInOneSection,
};
