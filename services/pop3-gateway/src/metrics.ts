import { metrics } from '@correo/telemetry';

/** Labels: `listener` is pop3 or pop3s. Logins are counted by @correo/auth (correo_logins_total). */
export const pop3Metrics = {
  connections: metrics.counter<'listener'>({
    name: 'correo_pop3_connections_total',
    help: 'POP3 connections accepted by a listener.',
    labelNames: ['listener'],
  }),
  activeConnections: metrics.gauge<'listener'>({
    name: 'correo_pop3_active_connections',
    help: 'POP3 connections open now.',
    labelNames: ['listener'],
  }),
  connectionsRefused: metrics.counter<'listener' | 'reason'>({
    name: 'correo_pop3_connections_refused_total',
    help: 'POP3 connections refused before a session: per-ip, total, proxy, tls, shutdown.',
    labelNames: ['listener', 'reason'],
  }),
  commandSeconds: metrics.histogram<'command'>({
    name: 'correo_pop3_command_duration_seconds',
    help: 'From a POP3 command read to its reply written (RETR and TOP: the whole message), by command.',
    labelNames: ['command'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  }),
  messagesRetrieved: metrics.counter({
    name: 'correo_pop3_messages_retrieved_total',
    help: 'Messages sent in full by RETR.',
  }),
  retrievedBytes: metrics.counter({
    name: 'correo_pop3_retrieved_bytes_total',
    help: 'Message octets sent by RETR and TOP, before dot-stuffing.',
  }),
  messagesDeleted: metrics.counter({
    name: 'correo_pop3_messages_deleted_total',
    help: 'Messages expunged in the UPDATE state after QUIT.',
  }),
};
