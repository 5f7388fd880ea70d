import { metrics } from '@correo/telemetry';

/** `listener` is imap or imaps; `result` of a login is ok, failed, locked or refused. */
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
    help: 'IMAP connections refused before a session: per-ip, total, proxy, tls, shutdown.',
    labelNames: ['listener', 'reason'],
  }),
  logins: metrics.counter<'result'>({
    name: 'correo_imap_logins_total',
    help: 'IMAP login attempts (LOGIN and AUTHENTICATE) by result.',
    labelNames: ['result'],
  }),
  commands: metrics.counter<'command' | 'status'>({
    name: 'correo_imap_commands_total',
    help: 'IMAP commands answered, by command and completion status.',
    labelNames: ['command', 'status'],
  }),
};
