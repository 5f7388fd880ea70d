import { metrics } from '@correo/telemetry';

/** Labels: `listener` is managesieve. Logins are counted by @correo/auth (correo_logins_total). */
export const manageSieveMetrics = {
  connections: metrics.counter<'listener'>({
    name: 'correo_managesieve_connections_total',
    help: 'ManageSieve connections accepted.',
    labelNames: ['listener'],
  }),
  activeConnections: metrics.gauge<'listener'>({
    name: 'correo_managesieve_active_connections',
    help: 'ManageSieve connections open now.',
    labelNames: ['listener'],
  }),
  connectionsRefused: metrics.counter<'listener' | 'reason'>({
    name: 'correo_managesieve_connections_refused_total',
    help: 'ManageSieve connections refused: per-ip, total, proxy, tls, shutdown, per-user.',
    labelNames: ['listener', 'reason'],
  }),
  commands: metrics.counter<'command' | 'status'>({
    name: 'correo_managesieve_commands_total',
    help: 'ManageSieve commands answered, by command and status (OK, NO, BYE).',
    labelNames: ['command', 'status'],
  }),
  commandSeconds: metrics.histogram<'command'>({
    name: 'correo_managesieve_command_duration_seconds',
    help: 'From a ManageSieve command read to its response written, by command.',
    labelNames: ['command'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  }),
};
