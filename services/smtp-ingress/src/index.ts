export { startSmtpIngress } from './ingress.js';
export type { SmtpIngress, SmtpIngressDeps } from './ingress.js';
export type { IngressBackends } from './ingress-backends.js';
export type { ListenerName } from './listener.js';
export { smtpIngressSection } from './config.js';
export type { SmtpIngressConfig } from './config.js';
export { MAIL_ACCEPTED_TOPIC } from './message-intake.js';
