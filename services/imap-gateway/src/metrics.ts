import { metrics } from '@correo/telemetry';

/** `listener` is imap or imaps. Logins are counted by @correo/auth (correo_logins_total). */
export const imapMetrics = {
  connections: metrics.counter<'listener'>({
    name: 'correo_imap_connections_total',
    help: 'IMAP connections accepted by a listener.',
    labelNames: ['listener'],
  }),
  activeConnections: metrics.gauge<'listener'>({
    name: 'correo_imap_active_connections',
    help: 'IMAP connections open now.',
    labelNames: ['listener'],
  }),
  connectionsRefused: metrics.counter<'listener' | 'reason'>({
    name: 'correo_imap_connections_refused_total',
    help: 'IMAP connections refused: per-ip, total, proxy, tls, shutdown; LOGIN refused: per-user, per-user-ip.',
    labelNames: ['listener', 'reason'],
  }),
  commands: metrics.counter<'command' | 'status'>({
    name: 'correo_imap_commands_total',
    help: 'IMAP commands answered, by command and completion status.',
    labelNames: ['command', 'status'],
  }),
};
