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
  commandSeconds: metrics.histogram<'command'>({
    name: 'correo_imap_command_duration_seconds',
    help: 'From a command read to its tagged completion, by command (IDLE, which lasts until DONE, is not timed).',
    labelNames: ['command'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  }),
  idleSessions: metrics.gauge({
    name: 'correo_imap_idle_sessions',
    help: 'IMAP sessions in IDLE now, waiting for changes to be pushed.',
  }),
};
